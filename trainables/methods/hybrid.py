"""The hybrid code of the IMAE paper (seed 001) and the estimators its family of objectives uses.

IMAE and the three baselines it is compared with (beta-VAE, JointVAE, InfoVAE; the paper's
Figure 1) share one model: an encoder maps x to a Gaussian p(z|x) over `latent_dim`
continuous latents and a categorical p(y|x) over `categories` classes; a decoder reconstructs
x from (z, y), with y drawn by the Gumbel-softmax relaxation (Jang et al. 2016) so the
reconstruction gradient reaches the categorical head. The methods differ only in the terms
they weight, so `HybridCodeModel` holds everything else and each method is the loss it adds.

Figure 1 writes the ELBO's two KL terms as sums of five quantities, which the estimators
below compute on each minibatch:

  1  E log q(x|y, z)                      `recon` (its negative: Bernoulli NLL)
  2  I(x; y)        3  KL(p(y) || r(y))   2 + 3 = mean KL(p(y|x) || r(y))   `kl_y_conditional`
  4  I(x; z)        5  KL(p(z) || r(z))   4 + 5 = mean KL(p(z|x) || r(z))   `kl_z_conditional`

with r(z) = N(0, I) and r(y) uniform. Marginals p(z), p(y) are replaced by their minibatch
mixtures (the paper's appendix B, eq. 35): p(z_i) ~ 1/B sum_j p(z_i | x_j). VAT (Miyato et al.)
keeps p(y|x) smooth; the paper adds it to every model of this comparison, radius 1.

Where the paper is silent, the choices here: SGD momentum 0.9 (it says "momentum", lr 1e-3,
decay 0.98 per epoch); Gumbel-softmax temperature 0.67 (JointVAE's); VAT with one power
iteration (Miyato et al.) whose finite-difference step is the radius itself: their xi = 1e-6
is below float32's resolution for pixel values near 1, so the difference would be rounding. With `categories: 0` the model
is continuous-only and takes disentanglement_lib's conv networks on 64x64 images.
"""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from ..networks import make_decoder, make_encoder
from .base import Encoding, Method, adam, bernoulli_nll, gaussian_kl, gaussian_sample, sgd

LOG_2PI = math.log(2 * math.pi)


def gumbel_softmax_sample(logits: torch.Tensor, temperature: float, generator: torch.Generator) -> torch.Tensor:
    """A relaxed one-hot sample of Cat(softmax(logits)), noise from the method's generator."""
    uniform = torch.rand(logits.shape, generator=generator, device=logits.device, dtype=logits.dtype)
    exponential = -torch.log(uniform.clamp_min(1e-10))
    gumbel = -torch.log(exponential.clamp_min(1e-10))
    return F.softmax((logits + gumbel) / temperature, dim=1)


def gaussian_log_density_matrix(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z_i,k; mu_j,k, exp(logvar_j,k)) for every pair (i, j) and latent k: B x B x K."""
    z, mu, logvar = z.unsqueeze(1), mu.unsqueeze(0), logvar.unsqueeze(0)
    return -0.5 * (LOG_2PI + logvar + (z - mu).pow(2) * torch.exp(-logvar))


def standard_normal_log_density(z: torch.Tensor) -> torch.Tensor:
    return -0.5 * (LOG_2PI + z.pow(2))


def entropy(probs: torch.Tensor) -> torch.Tensor:
    """Entropy in nats of each row of a probability matrix."""
    return -(probs * torch.log(probs.clamp_min(1e-12))).sum(dim=-1)


class MinibatchMarginals:
    """Minibatch estimates of the marginal terms, from one batch of posteriors and samples."""

    def __init__(self, z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor, probs: torch.Tensor | None) -> None:
        self.batch = z.shape[0]
        self.z = z
        self.pairs = gaussian_log_density_matrix(z, mu, logvar)  # B x B x K
        self.probs = probs

    def _log_mixture(self, log_densities: torch.Tensor) -> torch.Tensor:
        """log 1/B sum_j exp(.) over the second axis."""
        return torch.logsumexp(log_densities, dim=1) - math.log(self.batch)

    def kl_z_per_latent(self) -> torch.Tensor:
        """sum_k KL(p(z_k) || N(0, 1)): IMAE's L(z) with its sign flipped."""
        log_marginal = self._log_mixture(self.pairs)  # B x K
        return (log_marginal - standard_normal_log_density(self.z)).sum(dim=1).mean()

    def kl_z_joint(self) -> torch.Tensor:
        """KL(p(z) || N(0, I)) of the whole code (Figure 1's term 5)."""
        log_marginal = self._log_mixture(self.pairs.sum(dim=2))  # B
        return (log_marginal - standard_normal_log_density(self.z).sum(dim=1)).mean()

    def marginal_y(self) -> torch.Tensor:
        return self.probs.mean(dim=0)

    def mi_x_y(self) -> torch.Tensor:
        """I(x; y) = H(mean p(y|x)) - mean H(p(y|x)) (eq. 7; Figure 1's term 2)."""
        return entropy(self.marginal_y()) - entropy(self.probs).mean()

    def kl_y_marginal(self) -> torch.Tensor:
        """KL(p(y) || uniform) (Figure 1's term 3)."""
        return math.log(self.probs.shape[1]) - entropy(self.marginal_y())

    def total_correlation(self) -> torch.Tensor:
        """KL(p(y, z) || p(y) prod_k p(z_k)): z sampled, the expectation over y taken exactly."""
        log_z_given_xj = self.pairs.sum(dim=2)  # B x B: log p(z_i | x_j)
        log_zk = self._log_mixture(self.pairs).sum(dim=1)  # B: sum_k log p(z_ik)
        if self.probs is None:
            return (self._log_mixture(log_z_given_xj) - log_zk).mean()
        log_probs = torch.log(self.probs.clamp_min(1e-12))  # B x C
        # log p(y = c, z_i) = log 1/B sum_j p(c | x_j) p(z_i | x_j): B x C
        log_joint = torch.logsumexp(log_z_given_xj.unsqueeze(2) + log_probs.unsqueeze(0), dim=1) - math.log(self.batch)
        log_y = torch.log(self.marginal_y().clamp_min(1e-12))
        return ((self.probs * (log_joint - log_y)).sum(dim=1) - log_zk).mean()


class HybridCodeModel(Method):
    """Encoder to (z, y), decoder from (z, y), one optimiser with a per-epoch decay.

    Subclasses implement `objective(parts, weights) -> (total, terms)`.
    """

    option_defaults = {
        "latent_dim": 10,
        "categories": 10,
        "temperature": 0.67,
        "vat_radius": 1.0,
        "optimizer": "sgd",
        "lr": 1e-3,
        "momentum": 0.9,
        "lr_decay": 0.98,
    }

    def __init__(
        self,
        image_shape,
        generator,
        latent_dim: int = 10,
        categories: int = 10,
        temperature: float = 0.67,
        vat_radius: float = 1.0,
        optimizer: str = "sgd",
        lr: float = 1e-3,
        momentum: float = 0.9,
        lr_decay: float = 0.98,
    ) -> None:
        super().__init__(image_shape, generator)
        if latent_dim < 1:
            raise ValueError(f"{self.name}: latent_dim must be at least 1, got {latent_dim}")
        if categories == 1 or categories < 0:
            raise ValueError(f"{self.name}: categories must be 0 (no categorical code) or at least 2, got {categories}")
        if temperature <= 0 or vat_radius < 0 or not 0 < lr_decay <= 1:
            raise ValueError(f"{self.name}: need temperature > 0, vat_radius >= 0 and 0 < lr_decay <= 1")
        self.latent_dim, self.categories = latent_dim, categories
        self.temperature, self.vat_radius = temperature, vat_radius
        self.encoder = make_encoder(self.image_shape, 2 * latent_dim + categories)
        self.decoder = make_decoder(self.image_shape, latent_dim + categories)
        if optimizer == "sgd":
            self.optimizers["model"] = sgd(self.parameters(), lr=lr, momentum=momentum)
        elif optimizer == "adam":
            self.optimizers["model"] = adam(self.parameters(), lr=lr)
        else:
            raise ValueError(f"{self.name}: optimizer must be 'sgd' or 'adam', got {optimizer!r}")
        if lr_decay < 1:
            self.schedulers["model"] = torch.optim.lr_scheduler.ExponentialLR(self.optimizers["model"], gamma=lr_decay)

    def _heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        out = self.encoder(x)
        mu, logvar = out[:, : self.latent_dim], out[:, self.latent_dim : 2 * self.latent_dim]
        logits = out[:, 2 * self.latent_dim :] if self.categories else None
        return mu, logvar, logits

    def vat_loss(self, x: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
        """KL(p(y|x) || p(y|x + r_adv)), r_adv of norm `vat_radius` found by one power iteration."""
        target = probs.detach()

        def divergence(perturbation: torch.Tensor) -> torch.Tensor:
            logits = self._heads(x + perturbation)[2]
            return F.kl_div(F.log_softmax(logits, dim=1), target, reduction="batchmean")

        def unit(d: torch.Tensor) -> torch.Tensor:
            return d / d.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *([1] * (d.dim() - 1)))

        direction = unit(torch.randn(x.shape, generator=self.generator, device=x.device, dtype=x.dtype))
        direction.requires_grad_(True)
        (gradient,) = torch.autograd.grad(divergence(self.vat_radius * direction), direction)
        return divergence(self.vat_radius * unit(gradient.detach()))

    def objective(self, parts: dict[str, torch.Tensor], weights: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        raise NotImplementedError

    def train_step(self, x, weights):
        mu, logvar, logits = self._heads(x)
        z = gaussian_sample(mu, logvar, self.generator)
        probs = F.softmax(logits, dim=1) if logits is not None else None
        decoder_input = z if probs is None else torch.cat([z, gumbel_softmax_sample(logits, self.temperature, self.generator)], dim=1)
        parts = {
            "x": x,
            "mu": mu,
            "logvar": logvar,
            "z": z,
            "probs": probs,
            "recon": bernoulli_nll(self.decoder(decoder_input), x),
        }
        total, terms = self.objective(parts, weights)
        optimizer = self.optimizers["model"]
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()
        return {"loss/recon": parts["recon"].detach(), **{k: v.detach() for k, v in terms.items()}, "loss/total": total.detach()}

    def kl_z_conditional(self, parts: dict[str, torch.Tensor]) -> torch.Tensor:
        """mean KL(p(z|x) || N(0, I)): Figure 1's terms 4 + 5."""
        return gaussian_kl(parts["mu"], parts["logvar"])

    def kl_y_conditional(self, parts: dict[str, torch.Tensor]) -> torch.Tensor:
        """mean KL(p(y|x) || uniform): Figure 1's terms 2 + 3."""
        return math.log(self.categories) - entropy(parts["probs"]).mean()

    def marginals(self, parts: dict[str, torch.Tensor]) -> MinibatchMarginals:
        return MinibatchMarginals(parts["z"], parts["mu"], parts["logvar"], parts["probs"])

    def encode(self, x):
        mu, logvar, logits = self._heads(x)
        if logits is None:
            return Encoding(code=mu, logvar=logvar)
        probs = F.softmax(logits, dim=1)
        return Encoding(code=torch.cat([mu, probs], dim=1), logvar=logvar, probs=probs)

    def decode(self, z):
        return self.decoder(z)
