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


def as_factor_matrix(factors, n_points: int, name: str = "factors") -> np.ndarray:
    """Integer factors, points x factors, every factor taking at least two values."""
    array = np.asarray(factors)
    if array.ndim != 2 or array.shape[0] != n_points:
        raise MetricInputError(f"{name} must be {n_points} x F, got shape {array.shape}")
    if array.shape[1] == 0:
        raise MetricInputError(f"{name} has no columns")
    if not np.issubdtype(array.dtype, np.integer):
        raise MetricInputError(f"{name} must hold integer factor indices, got dtype {array.dtype}")
    single = [k for k in range(array.shape[1]) if np.unique(array[:, k]).size < 2]
    if single:
        raise MetricInputError(f"factor(s) {single} take a single value in these points; the metric is undefined")
    return array
