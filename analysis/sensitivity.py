"""Weight-sensitivity indices: how far a method's metric moves when its loss weights move.

Every public function takes the tidy frame (a row per trial and epoch, see `analysis.tidy`) and
returns a frame. Index frames (`sensitivity_indices`, `rung_table`) are long: one row per
method x weighting x weight x metric x budget x index (x weight value for the per-value indices),
with the columns of `INDEX_COLUMNS`; `INDEX_DEFINITIONS` gives each column's and each index's
meaning in one sentence, for reports.

Conventions shared by all indices:
- Groups: a method under one weighting mode (fixed, adaptive, annealed) is analysed on its own;
  modes are never pooled.
- Budget: trials are compared at one epoch. By default, for each method, the largest epoch at which
  the metric was evaluated and that every trial reached, leaving out trials that errored, diverged
  or never reported (so trials ASHA stopped early are counted at their rung). `rung_table` repeats
  the indices at every rung.
- Seed-mean: the mean of the metric over the seeds of one weight setting. For a method with several
  weights, a weight's indices are marginal: the seed-means of every setting with that weight value
  are averaged over the other weights' values.
- Diverged trials are outcomes, not missing data: a trial that diverged at or before the budget has
  no metric value there, so it is left out of the seed-means but counted in `n_diverged` and in the
  `divergence_rate` index of its weight value; a weight value whose every seed diverged has no
  seed-mean and counts as outside the tolerance in `robust_fraction`. Errored trials (infrastructure
  failures) are left out entirely.
- Direction: `mode` says whether larger ('max') or smaller ('min') is better; `DEFAULT_MODES` holds
  the known 'min' metrics and every other metric defaults to 'max'.
- Confidence intervals: BCa intervals from scipy.stats.bootstrap (`analysis.resampling`). When
  every setting ran the same seeds, seeds are resampled as blocks (a seed's luck is shared by all
  settings, so a metric that does not depend on the weight keeps a range of 0 in every resample);
  otherwise seeds are resampled within each setting. Every interval contains its estimate (the
  note says where that needed the percentile interval or a widening); divergence rates take
  Wilson score intervals.
"""

from __future__ import annotations

import warnings
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from .effects import sobol_effects, weight_pvalue
from .resampling import Intervals, seed_bootstrap, wilson_interval

WEIGHT_PREFIX = "config/weights/"
REQUIRED_COLUMNS = ("trial_id", "status", "epoch", "config/method", "config/weighting", "config/seed")
KNOWN_STATUSES = frozenset({"finished", "early_stopped", "unfinished", "error", "diverged"})  # analysis.tidy.STATUSES
COMPARED_STATUSES = frozenset({"finished", "early_stopped"})  # their last epoch is a rung or the end
MODES = ("max", "min")
DEFAULT_MODES: dict[str, str] = {"recon_bce": "min", "recon_mse": "min", "tc": "min"}  # tc: dependence between latents

INDEX_COLUMNS = [
    "method", "weighting", "weight", "metric", "mode", "budget", "index", "weight_value",
    "value", "ci_low", "ci_high", "n_trials", "n_diverged", "n_seeds", "n_values", "note",
]
AGREEMENT_COLUMNS = ["method", "weighting", "metric", "budget", "final_budget", "spearman", "p_value", "n_trials", "note"]

INDEX_DEFINITIONS: dict[str, str] = {
    # columns
    "method": "The representation-learning method the trials trained.",
    "weighting": "How the loss weights were handled during training (fixed, adaptive or annealed); modes are analysed separately.",
    "weight": "The loss weight whose sensitivity the row measures, marginal over the method's other weights.",
    "metric": "The evaluation metric the index is computed from.",
    "mode": "Whether larger ('max') or smaller ('min') values of the metric are better.",
    "budget": "The training epoch at which the trials were compared; only trials that reached it (or diverged by it) count.",
    "index": "The name of the sensitivity index the row reports.",
    "weight_value": "The weight value a per-value row refers to; for 'best' the value achieving it, for 'tunability' the grid value used as the default.",
    "value": "The index computed from all seeds.",
    "ci_low": "Lower end of the BCa bootstrap interval over seeds (resampled as blocks when every setting ran the same seeds); Wilson for divergence rates.",
    "ci_high": "Upper end of the BCa bootstrap interval over seeds (resampled as blocks when every setting ran the same seeds); Wilson for divergence rates.",
    "n_trials": "Trials behind the row, counting trials that diverged by the budget.",
    "n_diverged": "Trials behind the row that diverged by the budget; their metric is left out of the seed-means.",
    "n_seeds": "Distinct seeds with a finite metric value behind the row.",
    "n_values": "Distinct values of the weight behind the row.",
    "note": "What the reader must know about the row: exclusions, the default matched, why a value is NaN.",
    "final_budget": "The last epoch of the finished trials, whose ranking the earlier budgets are compared with.",
    "spearman": "Spearman rank correlation between the trials' metric at the budget and at the final budget.",
    "p_value": "Two-sided p-value of the Spearman correlation (scipy.stats.spearmanr).",
    # indices
    "seed_mean": "Mean of the metric over seeds at one weight value (marginal over the other weights).",
    "best": "Best seed-mean over the weight's values, in the metric's better direction.",
    "range": "Max minus min of the seed-means across the weight's values.",
    "iqr": "Interquartile range of the seed-means across the weight's values.",
    "range_rel": "The range divided by the absolute best seed-mean.",
    "iqr_rel": "The interquartile range divided by the absolute best seed-mean.",
    "weight_share": "Share of the metric's variance due to the weight's value, SS_weight / (SS_weight + SS_seed), seeds being replicates (eta-squared; partial when other weights vary).",
    "seed_share": "Share of the metric's variance due to seeds, 1 - weight_share.",
    "tunability": "Improvement of the best seed-mean over the seed-mean at the default weight value (>= 0, in the metric's better direction).",
    "robust_fraction": "Share of the weight's log-range lying nearer to a grid value whose seed-mean is within the tolerance of the best than to one that is not.",
    "divergence_rate": "Share of the trials at one weight value that diverged by the budget.",
    "no_effect_p": "p-value of a permutation test of 'the metric does not depend on this weight' (scipy.stats.permutation_test, within seed blocks); large: no detectable effect, which is not proof of none.",
    "main_effect": "First-order Sobol' index: share of the response surface's variance (a quadratic in the log weights fitted to seed-means) this weight explains alone; only where two or more weights vary.",
    "total_effect": "Total Sobol' index: share of the response surface's variance this weight explains with all its interactions; only where two or more weights vary.",
}


# ---------------------------------------------------------------------------- validation


def metric_mode(metric: str, mode: str | None = None) -> str:
    """The direction that is better for `metric`: `mode` if given, else the default for the metric."""
    chosen = DEFAULT_MODES.get(metric, "max") if mode is None else mode
    if chosen not in MODES:
        raise ValueError(f"mode must be 'max' or 'min', got {chosen!r}")
    return chosen


def weight_columns(frame: pd.DataFrame) -> list[str]:
    """The `config/weights/<name>` columns of the frame, sorted."""
    return sorted(c for c in frame.columns if c.startswith(WEIGHT_PREFIX))


def validate_frame(frame: pd.DataFrame, metric: str) -> None:
    """Raise a ValueError naming the problem if `frame` is not a tidy frame holding `metric`."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"the frame lacks the column(s) {missing}; is it the tidy frame of load_experiment?")
    if not weight_columns(frame):
        raise ValueError(f"the frame has no loss-weight column ({WEIGHT_PREFIX}<name>)")
    if metric not in frame.columns:
        metrics = sorted(c for c in frame.columns if c not in REQUIRED_COLUMNS and not c.startswith("config/"))
        raise ValueError(f"unknown metric {metric!r}; the frame's other columns are {metrics}")
    if not pd.api.types.is_numeric_dtype(frame[metric]):
        raise ValueError(f"metric {metric!r} is not numeric (dtype {frame[metric].dtype})")
    unknown = set(frame["status"].dropna().unique()) - KNOWN_STATUSES
    if unknown:
        raise ValueError(f"unknown trial status(es) {sorted(unknown)}; known: {sorted(KNOWN_STATUSES)}")
    weights = frame[weight_columns(frame)].to_numpy(dtype=float)
    if (weights[np.isfinite(weights)] <= 0).any():
        raise ValueError("loss weights must be positive: the indices work on the log scale of the weights")


# ---------------------------------------------------------------------------- trials at a budget


def _divergence_epochs(frame: pd.DataFrame, last_epoch: pd.Series, status: pd.Series) -> pd.Series:
    """First epoch at which each trial diverged (NaN if it never did)."""
    if "diverged" in frame.columns:
        flagged = frame[frame["diverged"].eq(True)]
        epochs = flagged.groupby("trial_id")["epoch"].min().reindex(last_epoch.index)
    else:
        epochs = pd.Series(np.nan, index=last_epoch.index)
    # a trial whose status says diverged but no row is flagged diverged at its last epoch
    return epochs.where(epochs.notna() | (status != "diverged"), last_epoch).astype(float)


def _trial_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per trial: its config, status, last epoch and divergence epoch."""
    grouped = frame.groupby("trial_id", sort=True)
    summary = grouped[["status", "config/method", "config/weighting", "config/seed", *weight_columns(frame)]].first()
    summary = summary.rename(columns={"config/method": "method", "config/weighting": "weighting", "config/seed": "seed"})
    summary["last_epoch"] = grouped["epoch"].max()
    summary["diverged_epoch"] = _divergence_epochs(frame, summary["last_epoch"], summary["status"])
    return summary


def _evaluated_epochs(frame: pd.DataFrame, metric: str) -> dict[str, np.ndarray]:
    """Per method, the sorted epochs at which the metric is finite for at least one trial."""
    finite = frame[np.isfinite(frame[metric].to_numpy(dtype=float))]
    return {m: np.sort(g["epoch"].unique()) for m, g in finite.groupby("config/method")}


def evaluated_budgets(frame: pd.DataFrame, metric: str) -> dict[str, list[int]]:
    """Per method, every epoch at which the metric was evaluated: the budgets early stopping could have used."""
    validate_frame(frame, metric)
    return {method: [int(e) for e in epochs] for method, epochs in _evaluated_epochs(frame, metric).items()}


def _comparable(summary: pd.DataFrame) -> pd.Series:
    """Trials that must all have reached a budget: neither errored, diverged nor silent."""
    return (summary["status"] != "error") & summary["diverged_epoch"].isna() & (summary["last_epoch"] >= 1)


def default_budgets(frame: pd.DataFrame, metric: str) -> dict[str, int]:
    """Per method, the default budget: so that early-stopped trials are compared only where all of them got to.

    The budget is the largest epoch at which the metric was evaluated that every trial of the
    method reached, leaving out trials that errored, diverged (an outcome at any budget) or never
    reported; if no evaluated epoch is that early, that common epoch itself.
    """
    validate_frame(frame, metric)
    summary = _trial_summary(frame)
    evaluated = _evaluated_epochs(frame, metric)
    budgets: dict[str, int] = {}
    for method, trials in summary.groupby("method"):
        comparable = trials[_comparable(trials)]
        common = comparable["last_epoch"].min() if len(comparable) else trials["last_epoch"].max()
        epochs = evaluated.get(method, np.array([]))
        reachable = epochs[epochs <= common]
        budgets[method] = int(reachable.max()) if len(reachable) else int(common)
    return budgets


def rung_budgets(frame: pd.DataFrame, metric: str) -> dict[str, list[int]]:
    """Per method, the budgets at which trials were compared: the last epochs of finished and early-stopped trials.

    An early-stopped trial's last epoch is the rung where the scheduler stopped it; a finished
    trial's is the final budget. Only epochs at which the metric was evaluated are kept.
    """
    validate_frame(frame, metric)
    summary = _trial_summary(frame)
    evaluated = _evaluated_epochs(frame, metric)
    fallback = default_budgets(frame, metric)
    budgets: dict[str, list[int]] = {}
    for method, trials in summary.groupby("method"):
        compared = trials[trials["status"].isin(COMPARED_STATUSES) & trials["diverged_epoch"].isna()]
        rungs = set(compared["last_epoch"].astype(int)) & set(evaluated.get(method, np.array([])).astype(int).tolist())
        budgets[method] = sorted(rungs) or [fallback[method]]
    return budgets


def _resolve_budgets(frame: pd.DataFrame, metric: str, budget: int | Mapping[str, int] | None) -> dict[str, int]:
    methods = frame["config/method"].dropna().unique()
    if budget is None:
        return default_budgets(frame, metric)
    if isinstance(budget, Mapping):
        fallback = default_budgets(frame, metric)
        return {m: int(budget.get(m, fallback[m])) for m in methods}
    if int(budget) < 1:
        raise ValueError(f"budget must be an epoch >= 1, got {budget}")
    return {m: int(budget) for m in methods}


def trial_values(frame: pd.DataFrame, metric: str, budget: int | Mapping[str, int] | None = None) -> pd.DataFrame:
    """One row per trial at its method's budget, so that every index compares trials at the same epoch.

    `value` is the metric at the budget epoch (NaN if the trial diverged by then: `diverged` is
    True). `budget`: an epoch for all methods, a {method: epoch} mapping, or None for
    `default_budgets`. Errored trials, and trials that neither reached the budget nor diverged by
    it, are left out. Columns: trial_id, method, weighting, seed, status, the weight columns,
    last_epoch, diverged_epoch, budget, value, diverged.
    """
    validate_frame(frame, metric)
    summary = _trial_summary(frame)
    summary["budget"] = summary["method"].map(_resolve_budgets(frame, metric, budget))
    at_epoch = frame[["trial_id", "epoch", metric]].drop_duplicates(["trial_id", "epoch"], keep="last")
    at_epoch = at_epoch.rename(columns={"epoch": "budget", metric: "value"})
    trials = summary.reset_index().merge(at_epoch, on=["trial_id", "budget"], how="left")
    trials["diverged"] = trials["diverged_epoch"] <= trials["budget"]
    trials["value"] = trials["value"].astype(float).where(~trials["diverged"])
    counted = (trials["status"] != "error") & ((trials["last_epoch"] >= trials["budget"]) | trials["diverged"])
    return trials[counted].reset_index(drop=True)


# ---------------------------------------------------------------------------- index arithmetic
# Each takes seed-means shaped (resamples, weight values): one row per resample of the seeds.


def response_range(means: np.ndarray) -> np.ndarray:
    """Spread of the response: max minus min of the seed-means across weight values (NaN values ignored)."""
    return np.nanmax(means, axis=-1) - np.nanmin(means, axis=-1)


def response_iqr(means: np.ndarray) -> np.ndarray:
    """Robust spread of the response: interquartile range of the seed-means across weight values."""
    upper, lower = np.nanpercentile(means, [75, 25], axis=-1)
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


# ---------------------------------------------------------------------------- one weight's response


def canonical_weights(values: Iterable[float]) -> np.ndarray:
    """Weight values rounded to 10 significant digits, so that 50.000000000000014 and 50 are one value."""
    return np.array([float(f"{v:.10g}") for v in values])


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
        settings = weight_values.astype(str).agg("|".join, axis=1)
        finite = np.isfinite(trials["value"].to_numpy(dtype=float))
        diverged = trials["diverged"].to_numpy(dtype=bool)
        cells, cell_seeds, cell_value, cell_weights = [], [], [], []
        seeds_column = trials["seed"].to_numpy()
        for _, rows in pd.Series(np.arange(len(trials))).groupby(settings.to_numpy()):
            kept = rows.to_numpy()[finite[rows.to_numpy()]]
            if len(kept):
                kept = kept[np.argsort(seeds_column[kept], kind="stable")]
                cells.append(trials["value"].to_numpy(dtype=float)[kept])
                cell_seeds.append(tuple(seeds_column[kept].tolist()))
                cell_value.append(int(np.searchsorted(values, own[kept[0]])))
                cell_weights.append(weight_values.to_numpy()[kept[0]])
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


def _default_for(defaults: Mapping | None, method: str, weight: str) -> float | None:
    """The caller's default for a weight: {weight: value}, or {method: {weight: value}}."""
    if not defaults:
        return None
    scoped = defaults.get(method)
    if isinstance(scoped, Mapping):
        value = scoped.get(weight)
    else:
        value = defaults.get(weight)
    return None if value is None or isinstance(value, Mapping) else float(value)


def nearest_on_log_scale(values: np.ndarray, target: float) -> int:
    """Index of the grid value nearest to `target` on the log scale."""
    if target <= 0:
        raise ValueError(f"a default weight must be positive, got {target}")
    return int(np.argmin(np.abs(np.log(values) - np.log(target))))


def _rng_for(seed: int, *keys: object) -> np.random.Generator:
    """A Generator seeded by `seed` and the row keys, so one group's intervals do not depend on the others."""
    return np.random.default_rng([seed, zlib.crc32("|".join(map(str, keys)).encode())])


CURVE_INDICES = ("best", "range", "iqr", "range_rel", "iqr_rel", "weight_share", "seed_share", "tunability", "robust_fraction")


def _index_statistic(response: WeightResponse, mode: str, default_index: int | None, tolerance: float):
    """The indices of one weight's response as one vectorized statistic of the cells: seed-means, then CURVE_INDICES."""
    has_mean = np.isin(np.arange(len(response.values)), response.cell_value)
    log_values = np.log(response.values)
    finite_n = response.n_finite[has_mean]

    def statistic(*cells: np.ndarray, axis: int = -1) -> np.ndarray:
        cells = [np.moveaxis(c, axis, -1) for c in cells]
        lead = cells[0].shape[:-1]
        means, within = response.seed_means([c.reshape(-1, c.shape[-1]) for c in cells])
        finite_means = means[:, has_mean]
        best = best_seed_mean(finite_means, mode)
        spread, iqr = response_range(finite_means), response_iqr(finite_means)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = weight_share(finite_means, finite_n, within)
            rel = np.abs(best)
            columns = [means[:, g] for g in range(means.shape[1])] + [
                best, spread, iqr, np.where(best != 0, spread / rel, np.nan), np.where(best != 0, iqr / rel, np.nan), share, 1 - share,
                tunability(finite_means, int(has_mean[: default_index + 1].sum() - 1), mode)
                if default_index is not None and has_mean[default_index] else np.full(len(best), np.nan),
                robust_fraction(means, log_values, mode, tolerance),
            ]
        return np.stack(columns).reshape(len(columns), *lead)

    return statistic


def _weight_rows(
    response: WeightResponse, *, weight: str, mode: str, default: float | None,
    tolerance: float, n_resamples: int, confidence: float, rng: np.random.Generator, marginal_over: list[str],
) -> list[dict]:
    """The index rows of one weight of one group."""
    totals = {
        "n_trials": int(response.n_trials.sum()), "n_diverged": int(response.n_diverged.sum()),
        "n_seeds": len(set().union(*response.seeds)), "n_values": len(response.values),
    }
    shared_notes = _shared_notes(response, marginal_over)
    rows: list[dict] = []

    def add(index: str, value: float, low: float, high: float, note: str = "", weight_value: float = np.nan, counts: dict | None = None) -> None:
        rows.append({"index": index, "weight_value": weight_value, "value": float(value), "ci_low": float(low), "ci_high": float(high),
                     **(counts or totals), "note": "; ".join(n for n in (note, shared_notes) if n)})

    def value_counts(g: int) -> dict:
        return {"n_trials": int(response.n_trials[g]), "n_diverged": int(response.n_diverged[g]), "n_seeds": len(response.seeds[g]), "n_values": 1}

    default_index = None if default is None else nearest_on_log_scale(response.values, default)
    if response.cells:
        statistic = _index_statistic(response, mode, default_index, tolerance)
        found = seed_bootstrap(response.cells, statistic, paired=response.paired, n_resamples=n_resamples, confidence=confidence, rng=rng)
        resampled = "seeds resampled as blocks" if response.paired else "seeds resampled within settings (settings ran different seeds)"
    else:
        k = len(response.values) + len(CURVE_INDICES)
        found = Intervals(np.full(k, np.nan), np.full(k, np.nan), np.full(k, np.nan), [""] * k)
        resampled = ""
    G = len(response.values)
    for g, value in enumerate(response.values):
        note = found.notes[g] if np.isfinite(found.estimate[g]) else "no finite value at this weight value"
        add("seed_mean", found.estimate[g], found.low[g], found.high[g], note, value, value_counts(g))
    for g, value in enumerate(response.values):
        low, high = wilson_interval(response.n_diverged[g], response.n_trials[g], confidence)
        add("divergence_rate", response.n_diverged[g] / response.n_trials[g], low, high, "Wilson score interval", value,
            value_counts(g) | {"n_seeds": len(response.trial_seeds[g])})

    if G < 2 or not np.isfinite(found.estimate[:G]).any():
        reason = "weight not varied (one value)" if G < 2 else "no finite value of the metric at this budget"
        for index in CURVE_INDICES:
            add(index, np.nan, np.nan, np.nan, reason)
        return rows
    position = {index: G + i for i, index in enumerate(CURVE_INDICES)}
    for index in CURVE_INDICES:
        i = position[index]
        note, weight_value = found.notes[i], np.nan
        if index == "best":
            finite = np.isfinite(found.estimate[:G])
            at = np.nanargmax(found.estimate[:G]) if mode == "max" else np.nanargmin(found.estimate[:G])
            weight_value = float(response.values[at]) if finite.any() else np.nan
        elif index in ("range_rel", "iqr_rel") and found.estimate[position["best"]] == 0:
            note = "best seed-mean is 0"
        elif index in ("weight_share", "seed_share"):
            if not any(len(cell) > 1 for cell in response.cells):
                add(index, np.nan, np.nan, np.nan, "one seed per setting: seed variance not observable")
                continue
            if not np.isfinite(found.estimate[i]):
                note = "metric identical in every trial"
        elif index == "tunability":
            if default_index is None:
                add(index, np.nan, np.nan, np.nan, f"no default given for {weight}")
                continue
            matched = f"default {weight}={default:g} matched grid value {response.values[default_index]:g} (nearest on the log scale)"
            note = matched + ("; no seed-mean there" if not np.isfinite(found.estimate[default_index]) else "") + (f"; {note}" if note else "")
            weight_value = float(response.values[default_index])
        elif index == "robust_fraction":
            note = "; ".join(n for n in (f"tolerance {tolerance:g} x |best|; values without a seed-mean count as outside it", note) if n)
        add(index, found.estimate[i], found.low[i], found.high[i], "; ".join(n for n in (note, resampled if index == "range" else "") if n), weight_value)
    return rows


def _shared_notes(response: WeightResponse, marginal_over: list[str]) -> str:
    notes = []
    if marginal_over and len(response.values) == len(response.cells):
        notes.append(f"joint with {', '.join(marginal_over)}: each setting has its own value of every weight, so the curve indices "
                     "group by setting (main_effect, total_effect and no_effect_p are this weight's own)")
    elif marginal_over:
        notes.append(f"marginal over {', '.join(marginal_over)}")
    if response.n_diverged.sum():
        notes.append(f"{int(response.n_diverged.sum())} of {int(response.n_trials.sum())} trials diverged (left out of the seed-means)")
    if response.n_missing:
        notes.append(f"{response.n_missing} trials have no value at the budget")
    return "; ".join(notes)


# ---------------------------------------------------------------------------- public frames


def _group_weights(trials: pd.DataFrame) -> list[str]:
    """The weight columns a group's trials carry (other methods' weights are all NaN there)."""
    return [w for w in weight_columns(trials) if trials[w].notna().all()]


def sensitivity_indices(
    frame: pd.DataFrame,
    metric: str,
    *,
    mode: str | None = None,
    budget: int | Mapping[str, int] | None = None,
    defaults: Mapping | None = None,
    tolerance: float = 0.05,
    n_resamples: int = 1000,
    n_permutations: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """All sensitivity indices of every method x weighting x weight for one metric, with bootstrap intervals.

    Why: to say how much a result depends on a method's loss weights rather than on luck (seeds).
    Rows follow `INDEX_COLUMNS`; indices are defined in `INDEX_DEFINITIONS` and in the module
    docstring (budget, marginalisation over the other weights, diverged trials). `budget`: an epoch,
    a {method: epoch} mapping, or None for `default_budgets`. `defaults`: {weight: value} or
    {method: {weight: value}}, matched to the nearest grid value on the log scale for tunability.
    `tolerance`: relative to |best|, for robust_fraction. Intervals: `n_resamples` seed resamples,
    `confidence` level, numpy Generator seeded by `seed`; `n_permutations` for each no-effect test.
    Groups that vary two or more weights also get each weight's main and total Sobol' effect.
    """
    mode = metric_mode(metric, mode)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be >= 1, got {n_resamples}")
    trials = trial_values(frame, metric, budget)
    rows: list[dict] = []
    for (method, weighting), group in trials.groupby(["method", "weighting"], sort=True):
        weights = _group_weights(group)
        varied = [w for w in weights if group[w].nunique() > 1]
        context = {"method": method, "weighting": weighting, "metric": metric, "mode": mode, "budget": int(group["budget"].iloc[0])}
        for column in weights:
            weight = column.removeprefix(WEIGHT_PREFIX)
            others = [w.removeprefix(WEIGHT_PREFIX) for w in varied if w != column]
            response = WeightResponse.from_trials(group, column, weights)
            rng = _rng_for(seed, method, weighting, weight, metric, context["budget"])
            weight_rows = _weight_rows(response, weight=weight, mode=mode, default=_default_for(defaults, method, weight),
                                       tolerance=tolerance, n_resamples=n_resamples, confidence=confidence, rng=rng, marginal_over=others)
            if column in varied:
                p_value, how = weight_pvalue(group, column, varied, n_resamples=n_permutations, rng=rng)
                weight_rows.append(weight_rows[-1] | {"index": "no_effect_p", "weight_value": np.nan, "value": p_value,
                                                      "ci_low": np.nan, "ci_high": np.nan, "note": how})
            rows += [context | {"weight": weight} | row for row in weight_rows]
        if len(varied) >= 2:
            joint = WeightResponse.from_trials(group, varied[0], varied)
            effects = sobol_effects(joint.cells, joint.cell_weights, varied, paired=joint.paired, n_resamples=n_resamples, confidence=confidence,
                                    rng=_rng_for(seed, method, weighting, "sobol", metric, context["budget"]))
            counts = {"n_trials": len(group), "n_diverged": int(group["diverged"].sum()), "n_seeds": int(group["seed"].nunique())}
            for effect in effects.to_dict("records"):
                column = effect.pop("weight")
                rows.append(context | effect | counts | {"weight": column.removeprefix(WEIGHT_PREFIX), "weight_value": np.nan,
                                                         "n_values": int(group[column].nunique())})
    return pd.DataFrame(rows, columns=INDEX_COLUMNS)


def rung_table(frame: pd.DataFrame, metric: str, *, budgets: Mapping[str, Iterable[int]] | None = None, **options) -> pd.DataFrame:
    """The sensitivity indices at every budget where trials were compared, to see whether early rungs tell the same story.

    At each budget only the trials that reached it (or diverged by it) count, each with its value
    at that epoch; at the final budget that leaves the trials the scheduler kept, a selected subset.
    `budgets`: {method: epochs}, default `rung_budgets`. `options` go to `sensitivity_indices`.
    Same layout as `sensitivity_indices`; the `budget` column tells the rung.
    """
    validate_frame(frame, metric)
    chosen = rung_budgets(frame, metric) if budgets is None else budgets
    tables = []
    for method, epochs in chosen.items():
        method_rows = frame[frame["config/method"] == method]
        if method_rows.empty:
            raise ValueError(f"no trials of method {method!r} in the frame")
        tables += [sensitivity_indices(method_rows, metric, budget=int(epoch), **options) for epoch in sorted(set(epochs))]
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=INDEX_COLUMNS)


def final_budgets(frame: pd.DataFrame, metric: str) -> dict[str, int]:
    """Per method, the final budget: the last evaluated epoch that a finished trial reached (else any trial)."""
    validate_frame(frame, metric)
    summary = _trial_summary(frame)
    evaluated = _evaluated_epochs(frame, metric)
    budgets: dict[str, int] = {}
    for method, trials in summary.groupby("method"):
        finished = trials[(trials["status"] == "finished") & trials["diverged_epoch"].isna()]
        last = (finished if len(finished) else trials)["last_epoch"].max()
        epochs = evaluated.get(method, np.array([]))
        reachable = epochs[epochs <= last]
        budgets[method] = int(reachable.max()) if len(reachable) else int(last)
    return budgets


def _spearman(at_budget: pd.Series, at_final: pd.Series) -> tuple[float, float, int, str]:
    """Spearman correlation over the trials with a finite value at both budgets."""
    paired = pd.concat([at_budget, at_final], axis=1, join="inner").dropna()
    if len(paired) < 3:
        return np.nan, np.nan, len(paired), "fewer than 3 trials reached both budgets"
    if paired.iloc[:, 0].nunique() < 2 or paired.iloc[:, 1].nunique() < 2:
        return np.nan, np.nan, len(paired), "a ranking is constant (all values tied)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        result = stats.spearmanr(paired.iloc[:, 0], paired.iloc[:, 1])
    return float(result.statistic), float(result.pvalue), len(paired), ""


def ranking_agreement(frame: pd.DataFrame, metric: str, *, budgets: Mapping[str, Iterable[int]] | None = None) -> pd.DataFrame:
    """How far an early budget's ranking of trials predicts the final one: whether stopping on it was safe.

    For each method x weighting and each budget before the final one (default `rung_budgets`), the
    Spearman correlation (scipy.stats.spearmanr) between the trials' metric at that budget and at
    the final budget (`final_budgets`), over the trials with a finite value at both (diverged
    trials have none, so they are left out); `n_trials` is how many it rests on. NaN with a note
    below 3 trials or for a constant ranking. Columns: `AGREEMENT_COLUMNS`.
    """
    validate_frame(frame, metric)
    finals = final_budgets(frame, metric)
    chosen = rung_budgets(frame, metric) if budgets is None else budgets
    final_values = trial_values(frame, metric, finals).set_index("trial_id")
    rows = []
    for method, epochs in chosen.items():
        final = finals.get(method)
        if final is None:
            raise ValueError(f"no trials of method {method!r} in the frame")
        method_rows = frame[frame["config/method"] == method]
        for epoch in sorted(e for e in set(epochs) if e < final):
            early = trial_values(method_rows, metric, int(epoch)).set_index("trial_id")
            for weighting, group in early.groupby("weighting", sort=True):
                at_final = final_values.loc[final_values["weighting"].eq(weighting) & final_values["method"].eq(method), "value"]
                rho, p_value, n, note = _spearman(group["value"], at_final)
                rows.append({"method": method, "weighting": weighting, "metric": metric, "budget": int(epoch), "final_budget": final,
                             "spearman": rho, "p_value": p_value, "n_trials": n, "note": note})
    return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)
