"""FactorVAE (Kim & Mnih, "Disentangling by Factorising", ICML 2018).

A VAE plus gamma * TC(z), the total correlation of the aggregate posterior, estimated with
a discriminator D that tells codes q(z) from codes whose dimensions were shuffled
independently across the batch (samples of prod_j q(z_j)): TC ~= E[logit D(z)].

Each step takes two batches, as the paper's Algorithm 2 draws them: the first trains the VAE
(recon + KL + gamma * TC), the second, encoded and permuted, is the "factorised" class for D's
update against the first batch's codes. With `disc_batch: second` (the paper's, default) a step
consumes two batches of the spec's batch_size; `disc_batch: half` splits one batch in halves
instead (the VAE then trains on half a batch: half the cost per step, a noisier gradient).
Optimisers as in the paper's appendix: VAE Adam(lr 1e-4, betas 0.9/0.999), D Adam(lr 1e-4,
betas 0.5/0.9); D is an MLP with 6 layers of 1000 units and leaky ReLU (0.2). The width and
depth of D are options, because on a CPU the paper's D costs more than the VAE it judges.
Two options not in the paper, to test whether D lags behind the encoder: `disc_steps` updates of
D per VAE step, each against a fresh permutation of the second batch's codes (on the CPU budget of
issue 12 they lowered D's accuracy: it did not lag; benchmarks/results/disentanglement_budget.md),
and `lr_decay`, an exponential per-epoch decay of both learning rates (1 = none, the paper's).
`decoder: broadcast` swaps the paper's deconvolution decoder for a spatial broadcast decoder
(`trainables.networks.SpatialBroadcastDecoder`, not the paper's), which eases positional factors.

gamma can follow D's accuracy (`trainables.weighting`): high accuracy means the code is
still far from factorised, so gamma goes up.
"""

from __future__ import annotations

import torch
from torch import nn

from ..networks import DECODERS, make_decoder, make_encoder
from .base import Encoding, Method, WeightSpec, adam, bernoulli_nll, frozen, gaussian_kl, gaussian_sample, score_together


def permute_dims(z: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Shuffle each latent dimension independently across the batch."""
    order = torch.rand(z.shape, generator=generator, device=z.device).argsort(dim=0)
    return z.gather(0, order)


def tc_discriminator(latent_dim: int, hidden: int, layers: int) -> nn.Sequential:
    """MLP with `layers` hidden layers of `hidden` units, one logit out (1 = drawn from q(z))."""
    modules: list[nn.Module] = []
    width = latent_dim
    for _ in range(layers):
        modules += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
        width = hidden
    modules.append(nn.Linear(width, 1))
    return nn.Sequential(*modules)


class FactorVAE(Method):
    name = "factor_vae"
    summary = "VAE + total-correlation penalty from a permutation discriminator"
    weights = (WeightSpec("gamma", default=35.0, low=1.0, high=200.0, doc="weight of the total-correlation term"),)
    adaptive = {"gamma": "tc"}
    option_defaults = {"latent_dim": 10, "lr": 1e-4, "disc_lr": 1e-4, "disc_hidden": 1000, "disc_layers": 6, "disc_batch": "second",
                       "disc_steps": 1, "lr_decay": 1.0, "decoder": "conv"}

    def __init__(
        self,
        image_shape,
        generator,
        latent_dim: int = 10,
        lr: float = 1e-4,
        disc_lr: float = 1e-4,
        disc_hidden: int = 1000,
        disc_layers: int = 6,
        disc_batch: str = "second",
        disc_steps: int = 1,
        lr_decay: float = 1.0,
        decoder: str = "conv",
    ) -> None:
        super().__init__(image_shape, generator)
        if disc_batch not in ("second", "half"):
            raise ValueError(f"{self.name}: disc_batch must be 'second' (a second batch, the paper's) or 'half', got {disc_batch!r}")
        if isinstance(disc_steps, bool) or not isinstance(disc_steps, int) or disc_steps < 1:
            raise ValueError(f"{self.name}: disc_steps must be a whole number >= 1, got {disc_steps!r}")
        if not 0 < lr_decay <= 1:
            raise ValueError(f"{self.name}: lr_decay must be in (0, 1] (1 = no decay), got {lr_decay!r}")
        if decoder not in DECODERS:
            raise ValueError(f"{self.name}: decoder must be one of {list(DECODERS)}, got {decoder!r}")
        self.disc_steps = disc_steps
        self.batches_per_step = 2 if disc_batch == "second" else 1
        self.latent_dim = latent_dim
        self.encoder = make_encoder(self.image_shape, 2 * latent_dim)
        self.decoder = make_decoder(self.image_shape, latent_dim, decoder)
        self.discriminator = tc_discriminator(latent_dim, disc_hidden, disc_layers)
        vae_parameters = list(self.encoder.parameters()) + list(self.decoder.parameters())
        self.optimizers["vae"] = adam(vae_parameters, lr=lr, betas=(0.9, 0.999))
        self.optimizers["disc"] = adam(self.discriminator.parameters(), lr=disc_lr, betas=(0.5, 0.9))
        if lr_decay < 1:
            for key in ("vae", "disc"):
                self.schedulers[key] = torch.optim.lr_scheduler.ExponentialLR(self.optimizers[key], gamma=lr_decay)

    def _posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def train_step(self, x, weights):
        if x.shape[0] < 4:
            raise ValueError("factor_vae needs steps of at least 4 images (two batches of 2)")
        half = x.shape[0] // 2
        x_vae, x_disc = x[:half], x[half : 2 * half]

        mu, logvar = self._posterior(x_vae)
        z = gaussian_sample(mu, logvar, self.generator)
        recon = bernoulli_nll(self.decoder(z), x_vae)
        kl = gaussian_kl(mu, logvar)
        with frozen(self.discriminator):
            tc = self.discriminator(z).mean()
        total = recon + kl + weights["gamma"] * tc
        vae_opt = self.optimizers["vae"]
        vae_opt.zero_grad(set_to_none=True)
        total.backward()
        vae_opt.step()

        with torch.no_grad():
            mu2, logvar2 = self._posterior(x_disc)
            z_other = gaussian_sample(mu2, logvar2, self.generator)
        disc_loss, accuracy = self.update_discriminator(z.detach(), z_other)

        return {
            "loss/recon": recon.detach(),
            "loss/kl": kl.detach(),
            "loss/tc": tc.detach(),
            "loss/total": total.detach(),
            "loss/disc": disc_loss.detach(),
            "disc_acc/tc": accuracy.detach(),
        }

    def update_discriminator(self, z_real: torch.Tensor, z_other: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """`disc_steps` updates of D, each against a fresh permutation of z_other; the first update's loss
        and accuracy, measured before D trained on this batch (comparable across disc_steps)."""
        first = self.discriminator_step(z_real, permute_dims(z_other, self.generator))
        for _ in range(self.disc_steps - 1):
            self.discriminator_step(z_real, permute_dims(z_other, self.generator))
        return first

    def discriminator_step(self, z_real: torch.Tensor, z_perm: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One update of D on codes (label 1) against permuted codes (label 0); its loss and accuracy."""
        logits_real, logits_perm = score_together(self.discriminator, z_real, z_perm)
        bce = nn.functional.binary_cross_entropy_with_logits
        loss = 0.5 * (bce(logits_real, torch.ones_like(logits_real)) + bce(logits_perm, torch.zeros_like(logits_perm)))
        optimizer = self.optimizers["disc"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        accuracy = 0.5 * ((logits_real > 0).float().mean() + (logits_perm < 0).float().mean())
        return loss, accuracy

    def encode(self, x):
        mu, logvar = self._posterior(x)
        return Encoding(code=mu, logvar=logvar)

    def decode(self, z):
        return self.decoder(z)
