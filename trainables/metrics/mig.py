"""Mutual Information Gap.

Chen, Li, Grosse, Duvenaud, "Isolating Sources of Disentanglement in Variational
Autoencoders", NeurIPS 2018. Estimator as in disentanglement_lib: each latent is discretized
into equal-width histogram bins (20 by default); for every factor, the gap between the two
latents with the highest mutual information with it, divided by the factor's entropy; the
mean over factors.

Binning merges the values of factors with more values than bins: the full dSprites factors
used as their own code score about 0.90, not 1.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import mutual_info_score

from .validation import MetricInputError, as_codes, as_factor_matrix


def discretize(codes: np.ndarray, bins: int = 20) -> np.ndarray:
    """Equal-width histogram bin index of each latent, per column."""
    out = np.empty(codes.shape, dtype=np.int64)
    for j in range(codes.shape[1]):
        edges = np.histogram(codes[:, j], bins=bins)[1]
        out[:, j] = np.digitize(codes[:, j], edges[:-1])
    return out


def mutual_information_matrix(discrete_codes: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """MI (nats) between each discretized latent (rows) and each factor (columns)."""
    return np.array(
        [[mutual_info_score(factors[:, k], discrete_codes[:, j]) for k in range(factors.shape[1])] for j in range(discrete_codes.shape[1])]
    )


def mig(codes, factors, bins: int = 20) -> float:
    """Mean over factors of (top MI - second MI) / H(factor); needs two or more latents."""
    codes = as_codes(codes)
    factors = as_factor_matrix(factors, codes.shape[0])
    if codes.shape[1] < 2:
        raise MetricInputError("MIG needs at least two latents (it is a gap between the top two)")
    entropy = np.array([mutual_info_score(factors[:, k], factors[:, k]) for k in range(factors.shape[1])])
    mi = mutual_information_matrix(discretize(codes, bins), factors)
    top_two = np.sort(mi, axis=0)[::-1][:2]
    return float(np.mean((top_two[0] - top_two[1]) / entropy))
