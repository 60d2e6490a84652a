"""Every evaluation metric a trial reports, declared once: its name, which direction is better,
its family, and the words a report uses for it.

Trials report these keys (`trainables.evaluation`), specs accept them as the search metric (and
take the search direction from here when a spec gives none), and the analysis reads the
direction and label from here. A new metric is one line in `METRICS` plus its code in
`trainables/metrics/`. Training signals (losses, weights, critic accuracies) are not metrics
here; `direction_of` treats `loss/...` as minimised and the rest as maximised.

No torch or sklearn imports: the analysis and the spec validator import this cheaply.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Direction = Literal["max", "min"]
DIRECTIONS: tuple[Direction, ...] = ("max", "min")


@dataclass(frozen=True)
class Metric:
    name: str
    direction: Direction
    family: str
    label: str  # a report's column header
    meaning: str  # one sentence for a report's glossary
    reported: bool = True  # analysed by default in the reports (in this file's order: the first present one leads)
    bounds: tuple[float, float] = (-math.inf, math.inf)  # values the metric can take (every estimate stays inside)


UNIT = (0.0, 1.0)  # scores and accuracies
NON_NEGATIVE = (0.0, math.inf)


# disentanglement first, then clustering, information and reconstruction: a report's default order
METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("mig", "max", "disentanglement", "MIG", "Mutual information gap (Chen et al. 2018): per factor, the gap between the two latents most informative about it, normalised by its entropy.", bounds=UNIT),
    Metric("dci_disentanglement", "max", "disentanglement", "DCI disentanglement", "How far each latent predicts a single factor (Eastwood & Williams 2018).", bounds=UNIT),
    Metric("factor_vae_score", "max", "disentanglement", "FactorVAE score", "Majority-vote accuracy of naming the fixed factor from the least-varying latent (Kim & Mnih 2018).", bounds=UNIT),
    Metric("sap", "max", "disentanglement", "SAP", "Separated attribute predictability (Kumar et al. 2018).", bounds=UNIT),
    Metric("beta_vae_score", "max", "disentanglement", "BetaVAE score", "Accuracy of a linear classifier naming the fixed factor from latent differences (Higgins et al. 2017).", bounds=UNIT),
    Metric("dci_completeness", "max", "disentanglement", "DCI completeness", "How far each factor is predicted by a single latent.", reported=False, bounds=UNIT),
    Metric("dci_informativeness", "max", "disentanglement", "DCI informativeness", "Held-out accuracy of predicting the factors from the code.", reported=False, bounds=UNIT),
    Metric("dci_informativeness_train", "max", "disentanglement", "DCI informativeness (fit set)", "Accuracy of the same predictors on the codes they were fitted to.", reported=False, bounds=UNIT),
    Metric("cluster_acc", "max", "clustering", "clustering accuracy", "Share of images whose cluster, mapped to a class (Hungarian or many-to-one), is their class.", bounds=UNIT),
    Metric("probe_acc", "max", "clustering", "linear probe accuracy", "Accuracy of a logistic regression from the code to the class, on held-out codes.", bounds=UNIT),
    Metric("cluster_acc_confident", "max", "clustering", "clustering accuracy (confident-example labels)",
           "Accuracy on the scored third when each cluster takes the label of its most confident example in the other two thirds (Makhzani et al. 2016).",
           reported=False, bounds=UNIT),
    Metric("cluster_nmi", "max", "clustering", "clustering NMI", "Normalised mutual information between clusters and classes.", reported=False, bounds=UNIT),
    Metric("cluster_ari", "max", "clustering", "clustering ARI", "Adjusted Rand index between clusters and classes.", reported=False, bounds=(-1.0, 1.0)),
    Metric("mi_x_y", "max", "information", "I(x;y) (nats)", "Mutual information between images and the categorical code."),
    Metric("mi_x_z", "max", "information", "I(x;z) (nats)", "Mutual information between images and the continuous code, summed over latents.", reported=False),
    Metric("tc", "min", "information", "total correlation (nats)", "Total correlation of the aggregate posterior: dependence between the latents.", reported=False),
    Metric("tc_y_z", "min", "information", "TC(y; z) (nats)",
           "Total correlation of a hybrid code, the categorical y with the Gaussian latents (seed 001's TC(y; z)): I(y; z) + TC(z).", reported=False),
    Metric("recon_bce", "min", "reconstruction", "reconstruction (nats)", "Bernoulli negative log-likelihood per image of the reconstruction (nats).", bounds=NON_NEGATIVE),
    Metric("recon_mse", "min", "reconstruction", "reconstruction (squared error)", "Summed squared error per image between the image and its reconstruction.", reported=False, bounds=NON_NEGATIVE),
)}
EVAL_KEYS: tuple[str, ...] = tuple(METRICS)
REPORTED: tuple[str, ...] = tuple(name for name, metric in METRICS.items() if metric.reported)


def direction_of(name: str) -> Direction:
    """Which way is better for a reported key: the registry's direction; losses are minimised, anything else maximised."""
    if name in METRICS:
        return METRICS[name].direction
    return "min" if name.startswith("loss/") else "max"


def bounds_of(name: str) -> tuple[float, float]:
    """The values a reported key can take: the registry's bounds, else the whole real line."""
    return METRICS[name].bounds if name in METRICS else (-math.inf, math.inf)


def label_of(name: str) -> str:
    """The words a report shows for a key: the registry's label, else the key itself."""
    return METRICS[name].label if name in METRICS else name
