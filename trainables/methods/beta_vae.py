"""beta-VAE (Higgins et al., ICLR 2017): a VAE whose KL term carries a weight beta.

Loss per batch: Bernoulli NLL of x under the decoder + beta * KL(q(z|x) || N(0, I)).
Adam, lr 1e-4 (disentanglement_lib's setting). There is no discriminator, so beta can only
be fixed. Networks from `trainables.networks`, chosen by image shape.
"""

from __future__ import annotations

import torch

from ..networks import make_decoder, make_encoder
from .base import Encoding, Method, WeightSpec, bernoulli_nll, gaussian_kl, gaussian_sample


class BetaVAE(Method):
    name = "beta_vae"
    summary = "VAE with a weighted KL term"
    weights = (WeightSpec("beta", default=4.0, low=0.1, high=64.0, doc="weight of the KL term"),)
    adaptive = {}
    option_defaults = {"latent_dim": 10, "lr": 1e-4}

    def __init__(self, image_shape, generator, latent_dim: int = 10, lr: float = 1e-4) -> None:
        super().__init__(image_shape, generator)
        self.latent_dim = latent_dim
        self.encoder = make_encoder(self.image_shape, 2 * latent_dim)
        self.decoder = make_decoder(self.image_shape, latent_dim)
        self.optimizers["vae"] = torch.optim.Adam(self.parameters(), lr=lr)

    def _posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def train_step(self, x, weights):
        mu, logvar = self._posterior(x)
        z = gaussian_sample(mu, logvar, self.generator)
        recon = bernoulli_nll(self.decoder(z), x)
        kl = gaussian_kl(mu, logvar)
        total = recon + weights["beta"] * kl
        optimizer = self.optimizers["vae"]
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()
        return {"loss/recon": recon.detach(), "loss/kl": kl.detach(), "loss/total": total.detach()}

    def encode(self, x):
        mu, logvar = self._posterior(x)
        return Encoding(code=mu, logvar=logvar)

    def decode(self, z):
        return self.decoder(z)
