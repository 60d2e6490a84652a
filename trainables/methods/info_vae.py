"""InfoVAE as the IMAE paper (seed 001, Figure 1) sets it up for comparison: 1 - beta 5 - gamma 3.

Zhao, Song, Ermon (2017) drop the mutual-information terms I(x; z), I(x; y) from the ELBO and
keep only the divergence of the aggregate posteriors from the priors. In the hybrid model of
`hybrid.py`: loss = Bernoulli NLL + beta * KL(p(z) || N(0, I)) + gamma * (KL(p(y) || uniform)
+ VAT), both marginals estimated on the minibatch. Zhao et al. also offer MMD for the
divergence; the comparison paper writes KL, so KL it is. Weights as in `beta_vae`: beta on the
continuous code, gamma on the categorical one (the paper uses 5 and 5).
"""

from __future__ import annotations

from .base import WeightSpec
from .hybrid import HybridCodeModel


class InfoVAE(HybridCodeModel):
    name = "info_vae"
    summary = "hybrid-code VAE without the mutual-information terms (aggregate KLs only)"
    weights = (
        WeightSpec("beta", default=5.0, low=0.1, high=100.0, doc="weight of KL(p(z) || r(z))"),
        WeightSpec("gamma", default=5.0, low=0.1, high=100.0, doc="weight of KL(p(y) || r(y)) and VAT"),
    )
    adaptive = {}

    def __init__(self, image_shape, generator, **options) -> None:
        super().__init__(image_shape, generator, **options)
        if not self.categories:
            raise ValueError("info_vae needs a categorical code: categories >= 2")

    def objective(self, parts, weights):
        marginals = self.marginals(parts)
        terms = {
            "loss/kl_z_marginal": marginals.kl_z_joint(),
            "loss/kl_y_marginal": marginals.kl_y_marginal(),
            "loss/vat": self.vat_loss(parts["x"], parts["probs"]),
        }
        total = parts["recon"] + weights["beta"] * terms["loss/kl_z_marginal"] + weights["gamma"] * (terms["loss/kl_y_marginal"] + terms["loss/vat"])
        return total, terms
