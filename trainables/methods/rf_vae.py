"""Relevance FactorVAE (Kim, Wang, Sahu, Pavlovic, "Relevance Factor VAE: Learning and
Identifying Disentangled Factors", arXiv 1902.01568, 2019) — the model seed 002 puts its
adaptive controller on.

FactorVAE plus a learned relevance vector r = sigmoid(rho) in (0, 1)^d, one entry per latent:
- the KL term of latent j is weighted by lambda_j = lambda_max - (lambda_max - lambda_min) r_j,
  so relevant latents (r_j -> 1) are pulled towards the prior weakly and nuisance latents
  (r_j -> 0) strongly;
- the total-correlation discriminator sees r * z, so only relevant latents are pushed apart;
- eta_s * sum_j r_j (sparsity: few relevant latents) and eta_h * sum_j H(r_j) (binary entropy:
  r_j near 0 or 1) shape r.
Loss: recon + sum_j lambda_j KL_j + gamma * TC(r*z) + eta_s |r|_1 + eta_h H(r); D is trained as
in FactorVAE on r*z against its dimension-wise permutation.

Settings follow the authors' public implementation where the paper leaves them open: rho
starts near 0 (r ~ 0.5, normal noise of std 0.001), r is trained with the VAE's Adam, gamma 6.4,
eta_s 1, eta_h 100, lambda_min 0.1, lambda_max 10, learning rates 1e-4 (D: betas 0.5/0.9).
Networks, discriminator, optimisers, encode and decode are FactorVAE's (this class extends it).
r is its own parameter group of the VAE's Adam, so the weight-effect check sees it apart: eta_s
and eta_h act on r alone at first (x4 moves r's updates by tens of percent from the first steps,
while the encoder's and decoder's barely move until r has moved), which a change summed over all
parameters would hide.
"""

from __future__ import annotations

import torch
from torch import nn

from .base import WeightSpec, bernoulli_nll, frozen, gaussian_sample
from .factor_vae import FactorVAE


class RelevanceFactorVAE(FactorVAE):
    name = "rf_vae"
    summary = "FactorVAE with learned relevance indicators for relevant vs nuisance latents"
    weights = (
        WeightSpec("gamma", default=6.4, low=0.5, high=100.0, doc="weight of the total correlation of r*z"),
        WeightSpec("eta_s", default=1.0, low=0.01, high=100.0, doc="weight of the L1 sparsity of r"),
        WeightSpec("eta_h", default=100.0, low=1.0, high=1000.0, doc="weight of the binary entropy of r"),
        WeightSpec("lambda_min", default=0.1, low=0.01, high=1.0, doc="KL weight of a fully relevant latent"),
        WeightSpec("lambda_max", default=10.0, low=1.0, high=100.0, doc="KL weight of a nuisance latent"),
    )
    adaptive = {"gamma": "tc"}

    def __init__(self, image_shape, generator, **options) -> None:
        super().__init__(image_shape, generator, **options)
        self.relevance_logits = nn.Parameter(0.001 * torch.randn(self.latent_dim))
        self.optimizers["vae"].add_param_group({"params": [self.relevance_logits]})

    @property
    def relevance(self) -> torch.Tensor:
        return torch.sigmoid(self.relevance_logits)

    def train_step(self, x, weights):
        if x.shape[0] < 4:
            raise ValueError("rf_vae needs steps of at least 4 images (two batches of 2)")
        half = x.shape[0] // 2
        x_vae, x_disc = x[:half], x[half : 2 * half]
        r = self.relevance

        mu, logvar = self._posterior(x_vae)
        z = gaussian_sample(mu, logvar, self.generator)
        recon = bernoulli_nll(self.decoder(z), x_vae)
        kl_per_latent = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).mean(dim=0)
        kl_weights = weights["lambda_max"] - (weights["lambda_max"] - weights["lambda_min"]) * r
        kl = (kl_weights * kl_per_latent).sum()
        with frozen(self.discriminator):
            tc = self.discriminator(r * z).mean()
        sparsity = r.sum()
        entropy = nn.functional.binary_cross_entropy_with_logits(self.relevance_logits, r, reduction="sum")
        total = recon + kl + weights["gamma"] * tc + weights["eta_s"] * sparsity + weights["eta_h"] * entropy
        vae_opt = self.optimizers["vae"]
        vae_opt.zero_grad(set_to_none=True)
        total.backward()
        vae_opt.step()

        with torch.no_grad():
            r = self.relevance
            mu2, logvar2 = self._posterior(x_disc)
            rz_other = r * gaussian_sample(mu2, logvar2, self.generator)
            rz_real = r * z.detach()
        disc_loss, accuracy = self.update_discriminator(rz_real, rz_other)

        return {
            "loss/recon": recon.detach(),
            "loss/kl": kl_per_latent.sum().detach(),
            "loss/weighted_kl": kl.detach(),
            "loss/tc": tc.detach(),
            "loss/sparsity": sparsity.detach(),
            "loss/entropy": entropy.detach(),
            "loss/total": total.detach(),
            "loss/disc": disc_loss.detach(),
            "disc_acc/tc": accuracy.detach(),
            "relevant_latents": (r > 0.5).float().sum().detach(),
        }
