"""Weight-sensitivity indices: how far a method's metric moves when its loss weights move.

`sensitivity_indices` takes the tidy frame (a row per trial and epoch, see `analysis.tidy`) and
returns a long frame: one row per method x weighting x weight x metric x budget x index (x weight
value for the per-value indices), with the columns of `INDEX_COLUMNS`; `analysis.glossary`
gives each column's and each index's meaning in one sentence.

Conventions shared by all indices:
- Groups: a method under one weighting mode (fixed, adaptive, annealed) is analysed on its own;
  modes are never pooled.
- Budget: trials are compared at one epoch (`analysis.core.budgets`); by default, per method,
  the largest evaluated epoch every comparable trial reached (ASHA's early stops count at their rung).
- Seed-mean: the mean of the metric over the seeds of one weight setting. For a method with several
  weights, a weight's indices are marginal: the seed-means of every setting with that weight value
  are averaged over the other weights' values.
- Diverged trials are outcomes, not missing data: a trial that diverged at or before the budget has
  no metric value there, so it is left out of the seed-means but counted in `n_diverged` and in the
  `divergence_rate` index of its weight value; a weight value whose every seed diverged has no
  seed-mean and counts as outside the tolerance in `robust_fraction`. Errored trials (infrastructure
  failures) are left out entirely.
- Direction: `mode` says whether larger ('max') or smaller ('min') is better; by default the
  metric's direction in `trainables.metric_registry`.
- Confidence intervals: BCa intervals from scipy.stats.bootstrap (`analysis.core.resampling`). When
  every setting ran the same seeds, seeds are resampled as blocks (a seed's luck is shared by all
  settings, so a metric that does not depend on the weight keeps a range of 0 in every resample);
  otherwise seeds are resampled within each setting. Every interval contains its estimate (the
  note says where that needed the percentile interval or a widening); divergence rates take
  Wilson score intervals.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .core.budgets import Budget, trial_values
from .core.frame import WEIGHT_PREFIX, metric_mode, weight_columns
from .core.resampling import Intervals, seed_bootstrap, wilson_interval
from .effects import sobol_effects, weight_pvalue
from .response import (
    WeightResponse,
    best_seed_mean,
    nearest_on_log_scale,
    response_iqr,
    response_range,
    robust_fraction,
    tunability,
    weight_share,
)
from .variants import label_option_variants

INDEX_COLUMNS = [
    "method", "weighting", "weight", "metric", "mode", "budget", "index", "weight_value",
    "value", "ci_low", "ci_high", "n_trials", "n_diverged", "n_seeds", "n_values", "note",
]


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
    budget: Budget = None,
    defaults: Mapping | None = None,
    tolerance: float = 0.05,
    n_resamples: int = 1000,
    n_permutations: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """All sensitivity indices of every method x weighting x weight for one metric, with bootstrap intervals.

    Why: to say how much a result depends on a method's loss weights rather than on luck (seeds).
    Rows follow `INDEX_COLUMNS`; indices are defined in `analysis.glossary` and in the module
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
    trials = trial_values(label_option_variants(frame), metric, budget)  # option variants apart
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
