"""Intervals and tests over seeds, through scipy.stats: valid where a claim of "no effect" lives.

- `seed_bootstrap`: BCa intervals (scipy.stats.bootstrap) of any vector of indices computed
  from the trials' values, one sample per setting of the weights. When every setting ran the
  same seeds, seeds are resampled as blocks (`paired`): a seed's luck is shared by all settings,
  so a metric that depends on the seed but not on the weight keeps a range of exactly 0 in
  every resample, and its interval is [0, 0]. Otherwise seeds are resampled within settings.
  An interval always contains its estimate: where BCa is undefined (every resample on one side)
  the percentile interval is used, and an interval that misses the estimate (a bootstrap bias
  at a boundary) is widened to it; the row's note says so.
- `wilson_interval`: the Wilson score interval of a proportion (scipy's binomtest), which
  stays inside [0, 1] and is not empty at 0 or 1.
- `no_effect_pvalue`: a permutation test of "this weight has no effect" (scipy's
  permutation_test), permuting within blocks of trials that share a seed (and, in a crossed
  design, the other weights' values); in a scattered design, what the other weights and the seed
  explain is removed first (Freedman-Lane), so a weight is not credited with its neighbours' effect.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

Statistic = Callable[..., np.ndarray]  # samples (..., n_i) each, axis=-1 -> (k, ...)
MIN_SEEDS = 3  # fewest seeds per setting for a bootstrap interval


@dataclass
class Intervals:
    """Estimates and interval ends of k indices, with a note per index where the interval needed care."""

    estimate: np.ndarray
    low: np.ndarray
    high: np.ndarray
    notes: list[str]


def _quietly(function, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            return function(*args, **kwargs)


def seed_bootstrap(
    samples: Sequence[np.ndarray], statistic: Statistic, *, paired: bool, n_resamples: int, confidence: float, rng: np.random.Generator
) -> Intervals:
    """BCa intervals of `statistic` over seeds resampled in blocks (`paired`) or within each sample."""
    estimate = np.asarray(_quietly(statistic, *[s[np.newaxis, :] for s in samples], axis=-1))[:, 0]
    k = estimate.shape[0]
    nan = np.full(k, np.nan)
    fewest = min(len(s) for s in samples)
    if fewest < MIN_SEEDS:
        # two seeds give three distinct resamples of a setting: a bootstrap interval from them means nothing
        return Intervals(estimate, nan.copy(), nan.copy(), [f"{fewest} seed(s) in a setting: too few for a bootstrap interval (needs {MIN_SEEDS})"] * k)
    result = _quietly(
        stats.bootstrap, tuple(samples), statistic, paired=paired, vectorized=True, method="BCa",
        n_resamples=n_resamples, confidence_level=confidence, rng=rng,
    )
    low, high = np.array(result.confidence_interval.low, dtype=float), np.array(result.confidence_interval.high, dtype=float)
    distribution = np.asarray(result.bootstrap_distribution, dtype=float).reshape(k, -1)
    notes = [""] * k
    tail = 100 * (1 - confidence) / 2
    for i in range(k):
        if not np.isfinite(estimate[i]):
            low[i] = high[i] = np.nan
            continue
        finite = distribution[i][np.isfinite(distribution[i])]
        if not (np.isfinite(low[i]) and np.isfinite(high[i])):
            if not len(finite):
                continue
            if np.ptp(finite) == 0 and finite[0] == estimate[i]:
                low[i] = high[i] = estimate[i]  # every resample gives the estimate: nothing varies
                continue
            low[i], high[i] = np.percentile(finite, [tail, 100 - tail])
            notes[i] = "percentile interval (BCa undefined)"
        if not low[i] <= estimate[i] <= high[i]:
            low[i], high[i] = min(low[i], estimate[i]), max(high[i], estimate[i])
            notes[i] = "; ".join(n for n in (notes[i], "interval widened to contain the estimate (resamples lie on one side)") if n)
    return Intervals(estimate, low, high, notes)


def wilson_interval(successes: int, trials: int, confidence: float) -> tuple[float, float]:
    """Wilson score interval of successes / trials (NaN, NaN for no trials)."""
    if trials == 0:
        return np.nan, np.nan
    interval = stats.binomtest(int(successes), int(trials)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(interval.low), float(interval.high)


def _centred_basis(design: np.ndarray) -> np.ndarray:
    """An orthonormal basis of the span of the centred columns of `design` (n, k), k possibly 0."""
    if design.shape[1] == 0:
        return design
    centred = design - design.mean(axis=0)
    basis, singular, _ = np.linalg.svd(centred, full_matrices=False)
    return basis[:, singular > 1e-10 * max(singular.max(initial=0.0), 1e-300)]


def no_effect_pvalue(
    values: np.ndarray, design: np.ndarray, blocks: np.ndarray, *, nuisance: np.ndarray | None = None,
    n_resamples: int, rng: np.random.Generator,
) -> float:
    """p-value of "the metric does not depend on the design's columns (beyond the nuisance columns)".

    `values` (n,); `design` (n, p) the weight's own columns (group indicators or a smooth basis);
    `nuisance` (n, q) what the metric may depend on under the null (other weights, seeds), removed
    first (Freedman & Lane: residuals of the nuisance fit are permuted and added back); `blocks`
    (n,) labels: residuals are permuted only among trials of the same block. The statistic is the
    variance the weight's columns explain beyond the nuisance, over what the full fit leaves.
    NaN when no block holds two trials (nothing to permute); 1 when the metric is constant.
    """
    labels, inverse = np.unique(blocks, return_inverse=True)
    groups = [np.flatnonzero(inverse == b) for b in range(len(labels))]
    groups = [g for g in groups if len(g) > 1]
    if not groups or np.ptp(values) == 0:
        return np.nan if not groups else 1.0
    order = np.concatenate(groups)
    y = values[order].astype(float)
    reduced_columns = np.zeros((len(order), 0)) if nuisance is None else nuisance[order]
    reduced = _centred_basis(reduced_columns)
    full = _centred_basis(np.column_stack([reduced_columns, design[order]]))
    fitted = y.mean() + reduced @ (reduced.T @ (y - y.mean()))
    residuals = y - fitted
    sizes = np.cumsum([len(g) for g in groups])[:-1]
    # A permuted response is r_p + fitted, and r_p has the sum and sum of squares of the residuals,
    # so every quantity of the statistic is linear in r_p: one product with [full | reduced | fitted - mean]
    # per block (the bases are centred, so they ignore the mean), no (resamples x trials) temporaries.
    offset = fitted - y.mean() - residuals.mean()
    projections = np.column_stack([full, reduced, offset])
    rows = np.split(projections, sizes)
    constant = np.concatenate([offset @ full, offset @ reduced, [offset @ offset]])
    fixed_ss = float((residuals**2).sum())  # sum of squares of r_p, whatever the permutation
    k_full = full.shape[1]

    def statistic(*parts: np.ndarray, axis: int = -1) -> np.ndarray:
        products = sum(np.moveaxis(p, axis, -1) @ m for p, m in zip(parts, rows)) + constant
        explained_full = (products[..., :k_full] ** 2).sum(axis=-1)
        explained_reduced = (products[..., k_full:-1] ** 2).sum(axis=-1)
        total = fixed_ss + 2 * (products[..., -1] - constant[-1]) + constant[-1]
        left = np.maximum(total - explained_full, 1e-12 * total)
        with np.errstate(invalid="ignore", divide="ignore"):
            # rounded, so that values equal in exact arithmetic tie (a flat response: 0 in every permutation)
            return np.round(np.where(total > 0, (explained_full - explained_reduced) / left, 0.0), 10)

    samples = np.split(residuals, sizes)
    result = _quietly(stats.permutation_test, samples, statistic, permutation_type="pairings", vectorized=True,
                      n_resamples=n_resamples, alternative="greater", rng=rng)
    return float(result.pvalue)
