"""Draw points that share a factor value from a labelled pool of codes.

disentanglement_lib's FactorVAE and BetaVAE scores render new observations with chosen factor
values. Here the codes of the evaluation set are computed once, and "observations with factor
k fixed to v" are drawn (with replacement) from the pool points whose factor k equals v.
On a pool holding the full factor grid this is the same distribution; on a random subset of
the grid it is the empirical conditional distribution of that subset.
"""

from __future__ import annotations

import numpy as np

from .validation import MetricInputError, as_codes, as_factor_matrix


class FactorPool:
    """Codes and integer factors of the same points, grouped by each factor's values."""

    def __init__(self, codes, factors) -> None:
        self.codes = as_codes(codes)
        self.factors = as_factor_matrix(factors, self.codes.shape[0])
        n, n_factors = self.factors.shape
        # for factor k: the point indices sorted by value, and each point's group start and size
        self._sorted = np.empty((n_factors, n), dtype=np.int64)
        self._group_start = np.empty((n_factors, n), dtype=np.int64)
        self._group_size = np.empty((n_factors, n), dtype=np.int64)
        for k in range(n_factors):
            order = np.argsort(self.factors[:, k], kind="stable")
            values = self.factors[order, k]
            _, starts, counts = np.unique(values, return_index=True, return_counts=True)
            group = np.repeat(np.arange(len(starts)), counts)
            self._sorted[k] = order
            self._group_start[k, order] = starts[group]
            self._group_size[k, order] = counts[group]

    @property
    def num_factors(self) -> int:
        return self.factors.shape[1]

    def same_value(self, factor: np.ndarray, anchor: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
        """For each (factor k, anchor point a), `size` random points whose factor k equals a's.

        factor, anchor: arrays of shape (T,); returns point indices of shape (T, size).
        """
        start = self._group_start[factor, anchor][:, None]
        count = self._group_size[factor, anchor][:, None]
        offset = (rng.random((len(factor), size)) * count).astype(np.int64)
        return self._sorted[factor[:, None], start + offset]


def check_pool_size(pool: FactorPool, needed: int, metric: str) -> None:
    if pool.codes.shape[0] < needed:
        raise MetricInputError(f"{metric} needs at least {needed} points in the pool, got {pool.codes.shape[0]}")
