"""Per-weight effects: does this weight matter, and how much of the response is its own?

Grouping trials by a weight's value measures that weight alone only when the design crosses it
with the others (a grid). In a space-filling design every setting has its own value of every
weight, so grouping by any one of them groups by the whole setting: the same joint effect,
labelled once per weight. Two tools here look at one weight at a time:

- `no_effect_pvalue` (from `analysis.resampling`): a permutation test of "the metric does not
  depend on this weight". The statistic is the share of the metric's variance the weight's own
  columns explain: its value groups in a crossed design (permuting within blocks of one seed and
  one setting of the other weights, an exact test), or a quadratic in log weight in a scattered
  one (permuting within seeds; the other weights are spread independently of this one by design).
- `sobol_effects`: first-order (main) and total Sobol' indices of each varied weight. A Gaussian
  process (scikit-learn; RBF on the log weights plus a white-noise kernel that takes up the seed
  noise) is fitted to the trials, and SALib's Sobol' analysis is run on its mean over the design's
  box (Saltelli sampling in log coordinates). Intervals: the same analysis on draws from the
  process's posterior. Main effect: the share of the seed-free response's variance that the
  weight explains alone; total: with all its interactions.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import sobol as sobol_sample
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

from .resampling import no_effect_pvalue

SALTELLI_BASE = 256  # SALib base sample size: N (2D + 2) evaluations of the surrogate mean
POSTERIOR_DRAWS = 64


def permutation_setup(trials: pd.DataFrame, column: str, varied: list[str]) -> tuple[np.ndarray, np.ndarray, str]:
    """The weight's design columns, the permutation blocks and a description of the test, for `trials` with finite values."""
    others = [c for c in varied if c != column]
    values = trials[column].to_numpy(dtype=float)
    seeds = trials["seed"].astype(str).to_numpy()
    indicators = (values[:, None] == np.unique(values)[None, :]).astype(float)
    if others:
        crossed = pd.Series(seeds).str.cat(trials[others].astype(str).agg("|".join, axis=1).to_numpy(), sep="|").to_numpy()
        if pd.Series(crossed).value_counts().min() > 1:
            return indicators, crossed, "permutation test within seed x other-weight blocks (crossed design), statistic: share of variance between the weight's values"
        logs = np.log(values)
        return np.column_stack([logs, logs**2]), seeds, "permutation test within seeds, statistic: R^2 of a quadratic in log weight (scattered design)"
    return indicators, seeds, "permutation test within seeds, statistic: share of variance between the weight's values"


def weight_pvalue(trials: pd.DataFrame, column: str, varied: list[str], *, n_resamples: int, rng: np.random.Generator) -> tuple[float, str]:
    """p-value of "no effect of this weight" over the trials with a finite value."""
    finite = trials[np.isfinite(trials["value"].to_numpy(dtype=float))]
    if finite[column].nunique() < 2:
        return np.nan, "weight not varied among trials with a value"
    design, blocks, how = permutation_setup(finite, column, varied)
    p = no_effect_pvalue(finite["value"].to_numpy(dtype=float), design, blocks, n_resamples=n_resamples, rng=rng)
    return p, how if np.isfinite(p) else "no block holds two trials: nothing to permute"


def _fit_process(x: np.ndarray, y: np.ndarray, seed: int) -> GaussianProcessRegressor:
    spread = np.ptp(x, axis=0)
    kernel = ConstantKernel(1.0, (1e-3, 1e3)) * RBF(length_scale=np.maximum(spread, 1e-3), length_scale_bounds=(1e-2, 1e3)) + WhiteKernel(0.1, (1e-6, 1e1))
    process = GaussianProcessRegressor(kernel=kernel, normalize_y=True, n_restarts_optimizer=2, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        process.fit(x, y)
    return process


def sobol_effects(trials: pd.DataFrame, varied: list[str], *, confidence: float, seed: int) -> pd.DataFrame:
    """Main and total Sobol' indices per varied weight (columns: weight, index, value, ci_low, ci_high, note).

    `trials`: one row per trial with the weight columns in `varied` and a `value`; needs two or more
    varied weights (with one, its share of variance is `weight_share`).
    """
    finite = trials[np.isfinite(trials["value"].to_numpy(dtype=float))]
    x = np.log(finite[varied].to_numpy(dtype=float))
    y = finite["value"].to_numpy(dtype=float)
    columns = ["weight", "index", "value", "ci_low", "ci_high", "note"]
    if len(varied) < 2:
        raise ValueError("Sobol' effects need two or more varied weights")
    if len(np.unique(x, axis=0)) < 2 * len(varied) + 2 or np.ptp(y) == 0:
        reason = "too few distinct settings for a surrogate" if np.ptp(y) else "metric identical in every trial"
        return pd.DataFrame([{"weight": w, "index": i, "value": np.nan, "ci_low": np.nan, "ci_high": np.nan, "note": reason}
                             for w in varied for i in ("main_effect", "total_effect")], columns=columns)
    process = _fit_process(x, y, seed)
    problem = {"num_vars": len(varied), "names": varied, "bounds": [[float(lo), float(hi)] for lo, hi in zip(x.min(axis=0), x.max(axis=0))]}
    points = sobol_sample.sample(problem, SALTELLI_BASE, calc_second_order=False, seed=seed)

    def indices(outputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            found = sobol_analyze.analyze(problem, outputs, calc_second_order=False, num_resamples=2, seed=seed)
        return np.clip(found["S1"], 0, 1), np.clip(found["ST"], 0, 1)

    main, total = indices(process.predict(points))
    draws = process.sample_y(points, n_samples=POSTERIOR_DRAWS, random_state=seed)
    sampled = [indices(draws[:, k]) for k in range(POSTERIOR_DRAWS)]
    tail = 100 * (1 - confidence) / 2
    noise = process.kernel_.k2.noise_level * np.var(y)  # normalize_y: the white-noise level is in units of var(y)
    note = f"Gaussian-process surrogate (seed noise variance {noise:.3g}), SALib Sobol' analysis in log weights; interval over {POSTERIOR_DRAWS} posterior draws"
    rows = []
    for j, weight in enumerate(varied):
        for name, estimate, k in (("main_effect", main[j], 0), ("total_effect", total[j], 1)):
            low, high = np.percentile([s[k][j] for s in sampled], [tail, 100 - tail])
            rows.append({"weight": weight, "index": name, "value": float(estimate),
                         "ci_low": float(min(low, estimate)), "ci_high": float(max(high, estimate)), "note": note})
    return pd.DataFrame(rows, columns=columns)
