"""IMAE, Information Maximization Auto-Encoding (seed 001), objective (11).

The encoder seeks a hybrid code (Gaussian z, categorical y; `hybrid.py`) that is informative
about x, with a decoder as the variational approximation of p(x | y, z). Minimised here:

  Bernoulli NLL + beta * sum_k KL(p(z_k) || N(0, 1))          (-beta L(z), eq. 6)
                + gamma * (VAT - I(x; y))                     (-gamma L_D(y), eqs. 7, 12)
                + tc_weight * KL(p(y, z) || p(y) prod_k p(z_k))  (total correlation of (y, z))

every marginal by its minibatch mixture (appendix B). Maximising I(x; y) asks for confident
p(y|x) (low H(y|x)) spread evenly over the classes (high H(y)); VAT keeps p(y|x) smooth.
Clusters: argmax p(y|x).

Settings from the paper: MLP 784-500-500 (appendix E, table 1), momentum SGD lr 1e-3 decayed by
0.98 each epoch, VAT radius 1, beta = gamma = 5 (its Figure 4). The copy's Greek letters are lost;
its Figure 4 also sets a third coefficient to 2 "for IMAE", which matches lambda of eq. (1)-(2),
where the information terms carry (lambda - 1) = 1 against the reconstruction: hence the total
correlation's weight `tc_weight` defaults to 1 (an option, not a swept weight).
"""

from __future__ import annotations

from .base import WeightSpec
from .hybrid import HybridCodeModel


class IMAE(HybridCodeModel):
    name = "imae"
    summary = "information-maximising autoencoder with a hybrid continuous/categorical code"
    weights = (
        WeightSpec("beta", default=5.0, low=0.1, high=100.0, doc="weight of sum_k KL(p(z_k) || r(z_k)), the continuous code's regulariser"),
        WeightSpec("gamma", default=5.0, low=0.1, high=100.0, doc="weight of I(x;y) - VAT, the categorical code's informativeness"),
    )
    adaptive = {}
    option_defaults = HybridCodeModel.option_defaults | {"tc_weight": 1.0}

    def __init__(self, image_shape, generator, tc_weight: float = 1.0, **options) -> None:
        super().__init__(image_shape, generator, **options)
        if not self.categories:
            raise ValueError("imae needs a categorical code: categories >= 2")
        if tc_weight < 0:
            raise ValueError(f"imae: tc_weight must be >= 0, got {tc_weight}")
        self.tc_weight = tc_weight

    def objective(self, parts, weights):
        marginals = self.marginals(parts)
        terms = {
            "loss/kl_z_marginals": marginals.kl_z_per_latent(),
            "loss/mi_y": marginals.mi_x_y(),
            "loss/vat": self.vat_loss(parts["x"], parts["probs"]),
            "loss/tc": marginals.total_correlation(),
        }
        total = (
            parts["recon"]
            + weights["beta"] * terms["loss/kl_z_marginals"]
            + weights["gamma"] * (terms["loss/vat"] - terms["loss/mi_y"])
            + self.tc_weight * terms["loss/tc"]
        )
        return total, terms
