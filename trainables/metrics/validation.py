"""Input checks shared by the metric families: a wrong input is an error, not a quiet number."""

from __future__ import annotations

import numpy as np


class MetricInputError(ValueError):
    """A metric was given inputs it cannot score (shape mismatch, NaN, too few points)."""


def as_codes(codes, name: str = "codes", min_points: int = 2) -> np.ndarray:
    array = np.asarray(codes, dtype=np.float64)
    if array.ndim != 2:
        raise MetricInputError(f"{name} must be a 2-D array (points x latents), got shape {array.shape}")
    if array.shape[0] < min_points:
        raise MetricInputError(f"{name} has {array.shape[0]} points; this metric needs at least {min_points}")
    if not np.isfinite(array).all():
        raise MetricInputError(f"{name} contains NaN or infinite values")
    return array


def as_labels(labels, n_points: int, name: str) -> np.ndarray:
    array = np.asarray(labels)
    if array.ndim != 1 or array.shape[0] != n_points:
        raise MetricInputError(f"{name} must be a 1-D array of {n_points} labels, got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.integer):
        raise MetricInputError(f"{name} must hold integer labels, got dtype {array.dtype}")
    return array
