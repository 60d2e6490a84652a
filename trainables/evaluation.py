"""One evaluation pass: encode the evaluation set once, then score every metric from that pass.

The evaluation set is a fixed subset of the test split, the same for every trial. Metrics that
fit a classifier (SAP, DCI, the linear probe) use a fixed split of it: the first two thirds
(in a seeded random order) to fit, the last third to score, the ratio of disentanglement_lib's
10,000 / 5,000 defaults. Random parts of the metrics use seed 0 in every trial, so two trials
differ only through their codes.

A metric that does not apply is NaN: clustering and the probe without class labels;
disentanglement metrics without ground-truth factors; `mi_x_y` without a categorical code;
`mi_x_z` and `tc` without a Gaussian posterior. A metric that cannot be computed on these codes
(NaN codes, too few points) is NaN with the reason logged. Factors that take a single value in the
evaluation set (a sub-grid with one shape, say) carry no information to score; the disentanglement
metrics score the factors that vary (`scored_factors`), and `study run` says which were dropped.
"""

from __future__ import annotations

import logging
import math
from typing import Callable

import numpy as np
import torch
from torch import nn

from .datasets import ImageSet
from .metric_registry import EVAL_KEYS
from .methods import Method
from .metrics import (
    MetricInputError, beta_vae_score, clustering_scores, confident_example_accuracy, dci, factor_vae_score, gaussian_information,
    hybrid_total_correlation, kmeans_clusters, mi_x_y, mig, probe_accuracy, sap,
)

log = logging.getLogger(__name__)

METRIC_SEED = 0


def fit_score_split(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The fixed 2/3 : 1/3 split of the evaluation set for metrics that fit a classifier."""
    order = np.random.default_rng(METRIC_SEED).permutation(n)
    cut = (2 * n) // 3
    return order[:cut], order[cut:]


def scored_factors(data: ImageSet) -> list[int]:
    """Indices of the ground-truth factors that take at least two values in `data` (none without factors)."""
    if data.factors is None:
        return []
    factors = data.factors.cpu().numpy()
    return [k for k in range(factors.shape[1]) if np.unique(factors[:, k]).size > 1]


def _guarded(results: dict[str, float], name: str, compute: Callable[[], dict[str, float] | float]) -> None:
    """Run one metric family; on bad input leave its keys NaN and log why."""
    try:
        value = compute()
    except MetricInputError as error:
        log.warning("%s left NaN: %s", name, error)
        return
    results.update(value if isinstance(value, dict) else {name: value})


@torch.no_grad()
def encode_all(method: Method, data: ImageSet, batch_size: int = 1024) -> dict[str, torch.Tensor]:
    """Codes, posterior log-variances, class probabilities and reconstruction errors of every image."""
    was_training = method.training
    method.eval()
    parts: dict[str, list[torch.Tensor]] = {"code": [], "logvar": [], "probs": [], "bce": [], "mse": []}
    for chunk in data.images.split(batch_size):
        encoding = method.encode(chunk)
        logits = method.decode(encoding.code)
        parts["code"].append(encoding.code)
        if encoding.logvar is not None:
            parts["logvar"].append(encoding.logvar)
        if encoding.probs is not None:
            parts["probs"].append(encoding.probs)
        bce = nn.functional.binary_cross_entropy_with_logits(logits, chunk, reduction="none")
        parts["bce"].append(bce.flatten(1).sum(dim=1))
        parts["mse"].append((torch.sigmoid(logits) - chunk).pow(2).flatten(1).sum(dim=1))
    method.train(was_training)
    return {key: torch.cat(values) for key, values in parts.items() if values}


def evaluate(method: Method, data: ImageSet, batch_size: int = 1024) -> dict[str, float]:
    """Every metric of EVAL_KEYS (plus `mi_x_z/<k>` per latent) for `data`, on the method's device."""
    encoded = encode_all(method, data, batch_size)
    results = {key: math.nan for key in EVAL_KEYS}
    results["recon_bce"] = encoded["bce"].mean().item()
    results["recon_mse"] = encoded["mse"].mean().item()
    code = encoded["code"].double().cpu().numpy()  # one device-to-host copy per evaluation
    probs = encoded["probs"].double().cpu().numpy() if "probs" in encoded else None
    fit, score = fit_score_split(len(code))

    if probs is not None:
        _guarded(results, "mi_x_y", lambda: mi_x_y(probs))
    if "logvar" in encoded:
        def information() -> dict[str, float]:
            per_latent, tc = gaussian_information(encoded["code"][:, : encoded["logvar"].shape[1]], encoded["logvar"], seed=METRIC_SEED)
            out = {f"mi_x_z/{k}": float(v) for k, v in enumerate(per_latent)}
            out.update(mi_x_z=float(per_latent.sum()), tc=tc)
            return out
        _guarded(results, "mi_x_z", information)
        if "probs" in encoded:  # a hybrid code: seed 001's TC(y; z), the same estimator with y summed exactly
            mu = encoded["code"][:, : encoded["logvar"].shape[1]]
            _guarded(results, "tc_y_z", lambda: hybrid_total_correlation(mu, encoded["logvar"], encoded["probs"], seed=METRIC_SEED))

    if data.labels is not None:
        labels = data.labels.cpu().numpy()
        def clustering() -> dict[str, float]:
            clusters = probs.argmax(axis=1) if probs is not None else kmeans_clusters(code, data.num_classes, seed=METRIC_SEED)
            return clustering_scores(labels, clusters)
        _guarded(results, "cluster_acc", clustering)
        if probs is not None:  # the AAE paper's rule: clusters labelled by their most confident example of the fit part
            _guarded(results, "cluster_acc_confident",
                     lambda: confident_example_accuracy(labels[fit], probs[fit], labels[score], probs[score]))
        _guarded(results, "probe_acc", lambda: probe_accuracy(code[fit], labels[fit], code[score], labels[score], seed=METRIC_SEED))

    if data.factors is not None:
        factors = data.factors.cpu().numpy()[:, scored_factors(data)]
        _guarded(results, "mig", lambda: mig(code, factors))
        _guarded(results, "sap", lambda: sap(code[fit], factors[fit], code[score], factors[score]))
        _guarded(results, "dci", lambda: dci(code[fit], factors[fit], code[score], factors[score], seed=METRIC_SEED))
        _guarded(results, "factor_vae_score", lambda: factor_vae_score(code, factors, seed=METRIC_SEED))
        _guarded(results, "beta_vae_score", lambda: beta_vae_score(code, factors, seed=METRIC_SEED))
    return results
