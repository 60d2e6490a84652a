"""beta-VAE (Higgins et al., ICLR 2017): a VAE whose KL term carries a weight beta.

Continuous only (`categories: 0`, the default): loss = Bernoulli NLL + beta * KL(q(z|x) || N(0, I)),
Adam lr 1e-4 (disentanglement_lib's setting), networks chosen by image shape.

With a categorical code (`categories: K`), it is the beta-VAE of the IMAE paper's comparison
(seed 001, Figure 1: 1 - beta (4 + 5) - gamma (2 + 3), see `hybrid.py`): the KL of the
categorical posterior to the uniform prior carries gamma, and VAT on p(y|x), which that paper
adds to every model of the comparison, carries gamma too. The paper's copy lost which Greek
letter weighs which code; here beta always weighs the continuous code, so beta means the same
with the categorical code on or off. For the paper's setting use `optimizer: sgd`, `lr: 0.001`,
`lr_decay: 0.98` (as `paper-imae-family.yaml` does). There is no discriminator: fixed weights only.
"""

from __future__ import annotations

from .base import WeightSpec
from .hybrid import HybridCodeModel


class BetaVAE(HybridCodeModel):
    name = "beta_vae"
    summary = "VAE with a weighted KL term; optional categorical code (IMAE's comparison)"
    weights = (
        WeightSpec("beta", default=4.0, low=0.1, high=64.0, doc="weight of the continuous code's KL term"),
        WeightSpec("gamma", default=5.0, low=0.1, high=64.0, doc="weight of the categorical code's KL term and VAT (categories > 0 only)"),
    )
    adaptive = {}
    option_defaults = HybridCodeModel.option_defaults | {"categories": 0, "optimizer": "adam", "lr": 1e-4, "lr_decay": 1.0}

    def objective(self, parts, weights):
        kl_z = self.kl_z_conditional(parts)
        terms = {"loss/kl_z": kl_z}
        total = parts["recon"] + weights["beta"] * kl_z
        if self.categories:
            terms["loss/kl_y"] = self.kl_y_conditional(parts)
            terms["loss/vat"] = self.vat_loss(parts["x"], parts["probs"])
            total = total + weights["gamma"] * (terms["loss/kl_y"] + terms["loss/vat"])
        return total, terms
