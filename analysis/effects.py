"""Per-weight effects: does this weight matter, and how much of the response is its own?

Grouping trials by a weight's value measures that weight alone only when the design crosses it
with the others (a grid). In a space-filling design every setting has its own value of every
weight, so grouping by any one of them groups by the whole setting: the same joint effect,
labelled once per weight. Two tools here look at one weight at a time:

- `no_effect_pvalue` (from `analysis.core.resampling`): a permutation test of "the metric does not
  depend on this weight". In a crossed design: the variance between the weight's value groups,
  permuted within blocks of one seed and one setting of the other weights (an exact test). In a
  scattered one: a quadratic in log weight beyond quadratics in the other weights and the seed,
  by Freedman and Lane's residual permutation within seeds, because in a design of 16 points the
  weights are never exactly uncorrelated and a marginal test would credit one weight with another's effect.
- `sobol_effects`: first-order (main) and total Sobol' indices of each varied weight, the
  functional ANOVA of a response surface: a full quadratic in the log weights (with pairwise
  interactions) fitted to the settings' seed-means, its variance decomposed by integrating over
  the design's box on an even grid. Main effect: the share of the surface's variance the weight
  explains alone; total: with all its interactions. Seed noise stays out of the surface (it is
  fitted to seed-means) and goes into the intervals: BCa over seeds, as for the other indices.
  A quadratic is what 16 noisy settings can carry; a Gaussian process tried first chased two
  outlying settings with a short length-scale and credited the wrong weight. The note gives the
  share of the seed-means' variance the surface fits, so a poor fit shows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .core.resampling import no_effect_pvalue, seed_bootstrap


def _quadratic_in_log(values: np.ndarray) -> np.ndarray:
    logs = np.log(values)
    return np.column_stack([logs, logs**2])


def permutation_setup(trials: pd.DataFrame, column: str, varied: list[str]) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, str]:
    """The weight's design columns, the nuisance columns, the permutation blocks and a description of the test."""
    others = [c for c in varied if c != column]
    values = trials[column].to_numpy(dtype=float)
    seeds = trials["seed"].astype(str).to_numpy()
    indicators = (values[:, None] == np.unique(values)[None, :]).astype(float)
    if not others:
        return indicators, None, seeds, "permutation test within seeds, statistic: variance between the weight's values"
    crossed = pd.Series(seeds).str.cat(trials[others].astype(str).agg("|".join, axis=1).to_numpy(), sep="|").to_numpy()
    if pd.Series(crossed).value_counts().min() > 1:
        return indicators, None, crossed, "permutation test within seed x other-weight blocks (crossed design), statistic: variance between the weight's values"
    seed_columns = (seeds[:, None] == np.unique(seeds)[None, :]).astype(float)
    nuisance = np.column_stack([seed_columns, *[_quadratic_in_log(trials[c].to_numpy(dtype=float)) for c in others]])
    return (_quadratic_in_log(values), nuisance, seeds,
            "Freedman-Lane permutation test within seeds (scattered design): a quadratic in log weight beyond quadratics in the other weights and the seed")


def weight_pvalue(trials: pd.DataFrame, column: str, varied: list[str], *, n_resamples: int, rng: np.random.Generator) -> tuple[float, str]:
    """p-value of "no effect of this weight" over the trials with a finite value."""
    finite = trials[np.isfinite(trials["value"].to_numpy(dtype=float))]
    if finite[column].nunique() < 2:
        return np.nan, "weight not varied among trials with a value"
    design, nuisance, blocks, how = permutation_setup(finite, column, varied)
    p = no_effect_pvalue(finite["value"].to_numpy(dtype=float), design, blocks, nuisance=nuisance, n_resamples=n_resamples, rng=rng)
    return p, how if np.isfinite(p) else "no block holds two trials: nothing to permute"


def surface_basis(logs: np.ndarray) -> np.ndarray:
    """Columns of a full quadratic in the (log) weights: 1, x_j, x_j^2, x_j x_k (j < k)."""
    d = logs.shape[1]
    columns = [np.ones(len(logs))] + [logs[:, j] for j in range(d)] + [logs[:, j] ** 2 for j in range(d)]
    columns += [logs[:, j] * logs[:, k] for j in range(d) for k in range(j + 1, d)]
    return np.column_stack(columns)


def _grid(low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
    """An even grid over the box in log coordinates (about 20,000 points, at most 41 a side)."""
    d = len(low)
    side = int(min(41, max(5, round(20_000 ** (1 / d)))))
    axes = [np.linspace(lo, hi, side) for lo, hi in zip(low, high)]
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.column_stack([m.ravel() for m in mesh]), (side,) * d


def surface_sobol(coefficients: np.ndarray, grid_basis: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Main and total Sobol' indices of quadratic surfaces (R, p) over a grid: (2D, R), mains first.

    Main: Var over x_i of the mean over the others, over the total variance; total: the mean over
    the others of the variance over x_i, over the total variance (integrals on the even grid).
    """
    values = (coefficients @ grid_basis.T).reshape(-1, *shape)  # (R, n, ..., n)
    d = len(shape)
    total = values.reshape(len(values), -1).var(axis=1)
    mains, totals = [], []
    for i in range(d):
        others = tuple(1 + j for j in range(d) if j != i)
        mains.append(values.mean(axis=others).var(axis=1))
        totals.append(values.var(axis=1 + i).mean(axis=tuple(range(1, d))) if d > 1 else values.var(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.clip(np.stack(mains + totals) / np.where(total > 0, total, np.nan), 0, 1)


def sobol_effects(response_cells: list[np.ndarray], settings: np.ndarray, varied: list[str], *, paired: bool,
                  n_resamples: int, confidence: float, rng: np.random.Generator) -> pd.DataFrame:
    """Main and total Sobol' indices per varied weight (columns: weight, index, value, ci_low, ci_high, note).

    `response_cells`: the metric of each setting's trials (ordered by seed); `settings` (cells, D):
    the setting's weights. A full quadratic in the log weights is fitted to the seed-means and
    integrated over the design's box; intervals: BCa over seeds (`seed_bootstrap`). Needs two or
    more varied weights (with one, its share of variance is `weight_share`).
    """
    columns = ["weight", "index", "value", "ci_low", "ci_high", "note"]
    if len(varied) < 2:
        raise ValueError("Sobol' effects need two or more varied weights")
    logs = np.log(settings)
    design = surface_basis(logs)
    means = np.array([c.mean() for c in response_cells])

    def empty(reason: str) -> pd.DataFrame:
        return pd.DataFrame([{"weight": w, "index": i, "value": np.nan, "ci_low": np.nan, "ci_high": np.nan, "note": reason}
                             for i in ("main_effect", "total_effect") for w in varied], columns=columns)

    if len(response_cells) <= design.shape[1]:
        return empty(f"{len(response_cells)} settings: too few for a quadratic surface in {len(varied)} weights ({design.shape[1]} terms)")
    if np.ptp(means) == 0:
        return empty("metric identical in every setting")
    fit = np.linalg.pinv(design)
    grid, shape = _grid(logs.min(axis=0), logs.max(axis=0))
    grid_basis = surface_basis(grid)

    def statistic(*cells: np.ndarray, axis: int = -1) -> np.ndarray:
        cell_means = np.stack([np.moveaxis(c, axis, -1).mean(axis=-1) for c in cells], axis=-1)
        lead = cell_means.shape[:-1]
        flat = cell_means.reshape(-1, cell_means.shape[-1])
        return surface_sobol(flat @ fit.T, grid_basis, shape).reshape(2 * len(varied), *lead)

    found = seed_bootstrap(response_cells, statistic, paired=paired, n_resamples=n_resamples, confidence=confidence, rng=rng)
    fitted = design @ (fit @ means)
    r2 = 1 - ((means - fitted) ** 2).sum() / ((means - means.mean()) ** 2).sum()
    note = f"quadratic surface in log weights, {r2:.0%} of the seed-means' variance fitted; Sobol' indices over the design's box; BCa over seeds"
    rows = []
    for k, index in enumerate(("main_effect", "total_effect")):
        for j, weight in enumerate(varied):
            i = k * len(varied) + j
            rows.append({"weight": weight, "index": index, "value": float(found.estimate[i]), "ci_low": float(found.low[i]),
                         "ci_high": float(found.high[i]), "note": "; ".join(n for n in (note, found.notes[i]) if n)})
    return pd.DataFrame(rows, columns=columns)
