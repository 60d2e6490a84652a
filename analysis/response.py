"""One weight's response curve: the trials behind it, and the arithmetic of the curve indices.

`WeightResponse` groups the trials of one method x weighting by the value of one weight and by
the setting of all its weights (a cell: one setting's seeds); the index functions take seed-means
shaped (resamples, weight values), so one vectorized call serves the estimate and every bootstrap
resample (`analysis.sensitivity` assembles them into rows).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .core.frame import canonical_weights

# Each takes seed-means shaped (resamples, weight values): one row per resample of the seeds.


def response_range(means: np.ndarray) -> np.ndarray:
    """Spread of the response: max minus min of the seed-means across weight values (NaN values ignored)."""
    return np.nanmax(means, axis=-1) - np.nanmin(means, axis=-1)


def response_iqr(means: np.ndarray) -> np.ndarray:
    """Robust spread of the response: interquartile range of the seed-means across weight values."""
    quantiles = np.nanpercentile if np.isnan(means).any() else np.percentile  # nanpercentile loops over rows in Python
    upper, lower = quantiles(means, [75, 25], axis=-1)
    return upper - lower


def best_seed_mean(means: np.ndarray, mode: str) -> np.ndarray:
    """The best seed-mean across weight values: the largest for mode 'max', the smallest for 'min'."""
    return np.nanmax(means, axis=-1) if mode == "max" else np.nanmin(means, axis=-1)


def weight_share(means: np.ndarray, n_per_value: np.ndarray, within_ss: np.ndarray) -> np.ndarray:
    """Share of variance due to the weight: SS_weight / (SS_weight + SS_seed), with seeds as replicates.

    SS_weight = sum over weight values of n_value * (seed-mean - grand mean)^2; SS_seed = the sum of
    squared deviations of each trial from the mean of its setting (`within_ss`, shaped
    (resamples,)). With one weight this is eta-squared = SS_between / SS_total; with several it is
    the partial eta-squared of the weight's marginal effect. NaN where both sums are zero.
    """
    grand = (means * n_per_value).sum(axis=-1) / n_per_value.sum()
    between = (n_per_value * (means - grand[:, None]) ** 2).sum(axis=-1)
    total = between + within_ss
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, between / total, np.nan)


def tunability(means: np.ndarray, default_index: int, mode: str) -> np.ndarray:
    """What tuning buys over the default: best seed-mean minus the seed-mean at the default, signed so that >= 0."""
    gain = best_seed_mean(means, mode) - means[:, default_index]
    return gain if mode == "max" else -gain


def voronoi_lengths(positions: np.ndarray) -> np.ndarray:
    """Length of the stretch of [first, last] position that lies nearest to each sorted grid position."""
    edges = np.concatenate([positions[:1], (positions[1:] + positions[:-1]) / 2, positions[-1:]])
    return np.diff(edges)


def robust_fraction(means: np.ndarray, log_values: np.ndarray, mode: str, tolerance: float) -> np.ndarray:
    """How much of the weight's range is safe: the share of its log-range nearest to a grid value within tolerance of the best.

    A grid value is good when its seed-mean is within `tolerance * |best|` of the best (>= best - tol
    for 'max', <= best + tol for 'min'); a value without a seed-mean (every seed diverged) is not
    good. Each grid value owns the stretch of the sorted log-axis closer to it than to its
    neighbours (half the gap to each side, the end values only inward), and the index is the
    good values' total stretch over the whole log-range. A flat response gives 1; a step with the
    lower half of an evenly spaced grid good gives 0.5. NaN with fewer than two grid values.
    """
    if len(log_values) < 2:
        return np.full(means.shape[0], np.nan)
    best = best_seed_mean(means, mode)
    slack = tolerance * np.abs(best)
    with np.errstate(invalid="ignore"):
        good = means >= (best - slack)[:, None] if mode == "max" else means <= (best + slack)[:, None]
    return good.astype(float) @ voronoi_lengths(log_values) / (log_values[-1] - log_values[0])


@dataclass
class WeightResponse:
    """The trials behind one weight's response curve, grouped by weight value and by setting of all weights."""

    values: np.ndarray  # sorted distinct weight values (G,)
    cells: list[np.ndarray]  # finite metric values of each setting of all weights, ordered by seed
    cell_seeds: list[tuple]  # the seeds behind each cell, in that order
    cell_value: np.ndarray  # index into `values` of each cell
    cell_weights: np.ndarray  # the setting of all `weights` behind each cell (cells, weights)
    n_trials: np.ndarray  # trials per weight value, diverged ones included
    n_diverged: np.ndarray
    n_finite: np.ndarray  # trials per weight value with a finite metric
    seeds: list[set]  # seeds with a finite metric per weight value
    trial_seeds: list[set]  # seeds of all counted trials per weight value, diverged ones included
    n_missing: int  # trials with no value at the budget although they did not diverge

    @classmethod
    def from_trials(cls, trials: pd.DataFrame, weight: str, weights: list[str]) -> WeightResponse:
        own = canonical_weights(trials[weight])
        values = np.unique(own)
        weight_values = pd.DataFrame({w: canonical_weights(trials[w]) for w in weights})
        settings = weight_values.groupby(weights, sort=True, dropna=False).ngroup().to_numpy()  # one code per setting of all weights
        finite = np.isfinite(trials["value"].to_numpy(dtype=float))
        diverged = trials["diverged"].to_numpy(dtype=bool)
        cells, cell_seeds, cell_value, cell_weights = [], [], [], []
        seeds_column, metric, setting_values = trials["seed"].to_numpy(), trials["value"].to_numpy(dtype=float), weight_values.to_numpy()
        for setting in np.unique(settings):
            kept = np.flatnonzero((settings == setting) & finite)
            if len(kept):
                kept = kept[np.argsort(seeds_column[kept], kind="stable")]
                cells.append(metric[kept])
                cell_seeds.append(tuple(seeds_column[kept].tolist()))
                cell_value.append(int(np.searchsorted(values, own[kept[0]])))
                cell_weights.append(setting_values[kept[0]])
        at = [own == v for v in values]
        seeds = trials["seed"].to_numpy()
        return cls(
            values=values,
            cells=cells,
            cell_seeds=cell_seeds,
            cell_value=np.array(cell_value, dtype=int),
            cell_weights=np.array(cell_weights, dtype=float).reshape(len(cell_weights), len(weights)),
            n_trials=np.array([m.sum() for m in at]),
            n_diverged=np.array([(m & diverged).sum() for m in at]),
            n_finite=np.array([(m & finite).sum() for m in at]),
            seeds=[set(seeds[m & finite].tolist()) for m in at],
            trial_seeds=[set(seeds[m].tolist()) for m in at],
            n_missing=int((~finite & ~diverged).sum()),
        )

    @property
    def paired(self) -> bool:
        """Every setting ran the same seeds: seeds can be resampled as blocks."""
        return len({seeds for seeds in self.cell_seeds}) == 1

    def seed_means(self, cells: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """Seed-means per weight value (R, G) and within-setting sums of squares (R,), from cells shaped (R, n_i)."""
        cell_means = np.stack([c.mean(axis=-1) for c in cells], axis=-1)
        within = sum(((c - c.mean(axis=-1, keepdims=True)) ** 2).sum(axis=-1) for c in cells)
        means = np.full((cell_means.shape[0], len(self.values)), np.nan)
        for g in np.unique(self.cell_value):
            means[:, g] = cell_means[:, self.cell_value == g].mean(axis=1)
        return means, within


def nearest_on_log_scale(values: np.ndarray, target: float) -> int:
    """Index of the grid value nearest to `target` on the log scale."""
    if target <= 0:
        raise ValueError(f"a default weight must be positive, got {target}")
    return int(np.argmin(np.abs(np.log(values) - np.log(target))))
