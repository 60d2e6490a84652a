"""Does an adaptive weight controller make a method less sensitive to its starting weight?

One method, run with fixed and adaptive (optionally annealed) weighting from the same starting
weights and seeds. Everything here works on the tidy frame (a row per trial and epoch, see
`analysis.tidy`) and compares the modes at each trial's final epoch:

- spread of the final metric across starting weights (std and range of the per-start seed-means);
- equal-spread tests (Brown-Forsythe and Levene) on the final values of all analysed trials;
- a BCa bootstrap interval of the ratio of spreads (scipy.stats.bootstrap over seeds);
- trajectories of the driven weight and whether different starts converge to one value (`analysis.trajectories`);
- the reconstruction-vs-disentanglement Pareto front of both modes (`analysis.tradeoff`);
- the level: each controlled mode's final metric against the best fixed start's and all fixed trials' (`analysis.level`).

Only `finished` trials whose final epoch carries a finite metric enter the analysis, and only
at starting weights and seeds both fixed and adaptive trials have; every other trial is counted
in `counts` with the reason. `analysis.glossary.COMPARISON_DEFINITIONS` gives each reported quantity's meaning.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from trainables.metric_registry import Direction

from .core.frame import (
    REQUIRED_COLUMNS,
    metric_mode,
    ordered_weightings,
    require_columns,
    require_metric,
    round_weights,
)
from .core.resampling import seed_bootstrap
from .level import level_against_fixed
from .tidy import final_rows
from .tradeoff import tradeoff_by_mode
from .trajectories import weight_convergence, weight_trajectories
from .variants import label_option_variants

INCLUDED_STATUS = "finished"
REFERENCE_MODE = "fixed"
COMPARED_MODE = "adaptive"


def select_method(frame: pd.DataFrame, method: str | None = None) -> tuple[pd.DataFrame, str]:
    """The rows of one method; without a name, the frame must hold exactly one method."""
    require_columns(frame, *REQUIRED_COLUMNS)
    methods = sorted(frame["config/method"].dropna().unique().tolist())
    if method is None:
        if len(methods) != 1:
            raise ValueError(f"the frame holds methods {methods}; pass method= to choose one")
        method = methods[0]
    elif method not in methods:
        raise ValueError(f"method {method!r} not in the frame; methods present: {methods}")
    return frame[frame["config/method"] == method], method


def adaptive_weight_name(frame: pd.DataFrame, weight: str | None = None) -> str:
    """The weight the controller drives: the `weight/<name>` that moves within adaptive (or annealed) trials.

    `frame` should hold one method. An explicit `weight` is only checked against the config columns.
    """
    starting = sorted(c.removeprefix("config/weights/") for c in frame.columns
                      if c.startswith("config/weights/") and frame[c].notna().any())
    if weight is not None:
        if weight not in starting:
            raise ValueError(f"weight {weight!r} has no column config/weights/{weight}; starting weights present: {starting}")
        return weight
    controlled = frame[frame["config/weighting"].isin(["adaptive", "annealed"])]
    reported = [c for c in frame.columns if c.startswith("weight/") and controlled[c].notna().any()]
    moving = [c.removeprefix("weight/") for c in reported if _moves_within_a_trial(controlled, c)]
    if len(moving) == 1:
        return moving[0]
    if len(moving) > 1:
        raise ValueError(f"several weights move in the adaptive trials: {moving}; pass weight= to choose one")
    if len(reported) == 1:  # the controller never moved, but there is only one candidate
        return reported[0].removeprefix("weight/")
    found = f"none of {reported} moves within an adaptive trial" if reported else "the frame has no weight/<name> columns"
    raise ValueError(f"cannot tell which weight the adaptive controller drives: {found}; pass weight= (starting weights present: {starting})")


def _moves_within_a_trial(frame: pd.DataFrame, column: str) -> bool:
    spans = frame.groupby("trial_id")[column].agg(lambda v: v.max() - v.min())
    scale = frame[column].abs().max()
    return bool((spans > 1e-9 * max(scale, 1.0)).any())


def _other_varying_weights(final: pd.DataFrame, weight: str) -> list[str]:
    """Starting-weight columns other than the driven one that take several values: starts would be ambiguous."""
    others = [c for c in final.columns if c.startswith("config/weights/") and c != f"config/weights/{weight}"]
    return [c for c in others if round_weights(final[c].dropna()).nunique() > 1]


def require_both_modes(frame: pd.DataFrame) -> None:
    """Fixed and adaptive trials must both be there: the comparison has no meaning otherwise."""
    present = ordered_weightings(frame["config/weighting"].dropna().unique())
    for needed in (REFERENCE_MODE, COMPARED_MODE):
        if needed not in present:
            raise ValueError(f"the frame has no {needed} trials of this method (weighting modes present: {present})")


def analysed_final_rows(frame: pd.DataFrame, metric: str, weight: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Final-epoch rows of the trials to compare, and the counts of what was included and why not.

    `frame` holds one method. Adds columns `weighting`, `start` (rounded starting weight of
    `weight`) and `seed`. Raises ValueError when fixed or adaptive is missing or they share no
    starting weights or seeds.
    """
    require_metric(frame, metric)
    require_columns(frame, f"config/weights/{weight}")
    final = final_rows(frame)
    final = final.assign(weighting=final["config/weighting"], start=round_weights(final[f"config/weights/{weight}"]),
                         seed=final["config/seed"])
    varying = _other_varying_weights(final, weight)
    if varying:
        raise ValueError(f"other starting weights vary too ({varying}); filter the frame to one value of each before comparing starts of {weight!r}")
    require_both_modes(final)

    diverged = final["diverged"].fillna(False).astype(bool) if "diverged" in final.columns else False
    finished = (final["status"] == INCLUDED_STATUS) & ~diverged
    has_metric = finished & np.isfinite(final[metric].astype(float))
    usable = final[has_metric]
    for needed in (REFERENCE_MODE, COMPARED_MODE):
        if not (usable["weighting"] == needed).any():
            statuses = final.loc[final["weighting"] == needed, "status"].value_counts().to_dict()
            raise ValueError(f"no {needed} trial finished with a finite {metric!r} at its final epoch (statuses: {statuses})")

    shared_starts, shared_seeds = _shared_starts_and_seeds(usable)
    shared = has_metric & final["start"].isin(shared_starts) & final["seed"].isin(shared_seeds)
    counts = _inclusion_counts(final, finished, has_metric, shared)
    return final[shared].reset_index(drop=True), counts


def _shared_starts_and_seeds(usable: pd.DataFrame) -> tuple[list[float], list[int]]:
    by_mode = {m: usable[usable["weighting"] == m] for m in (REFERENCE_MODE, COMPARED_MODE)}
    starts = {m: sorted(t["start"].unique().tolist()) for m, t in by_mode.items()}
    seeds = {m: sorted(t["seed"].unique().tolist()) for m, t in by_mode.items()}
    shared_starts = sorted(set(starts[REFERENCE_MODE]) & set(starts[COMPARED_MODE]))
    shared_seeds = sorted(set(seeds[REFERENCE_MODE]) & set(seeds[COMPARED_MODE]))
    if not shared_starts or not shared_seeds:
        raise ValueError(f"fixed and adaptive trials share no {'starting weights' if not shared_starts else 'seeds'}: "
                         f"fixed has starts {starts[REFERENCE_MODE]} and seeds {seeds[REFERENCE_MODE]}, "
                         f"adaptive has starts {starts[COMPARED_MODE]} and seeds {seeds[COMPARED_MODE]} (finished trials only)")
    if len(shared_starts) < 2:
        raise ValueError(f"fixed and adaptive share only the starting weight(s) {shared_starts}; the spread across starts needs at least two")
    return shared_starts, shared_seeds


def _inclusion_counts(final: pd.DataFrame, finished: pd.Series, has_metric: pd.Series, shared: pd.Series) -> pd.DataFrame:
    """One row per weighting mode: trials, included, excluded by reason, starts, seeds, status tallies."""
    rows = []
    for mode in ordered_weightings(final["weighting"].unique()):
        of_mode = final["weighting"] == mode
        analysed = final[of_mode & shared]
        row = {
            "weighting": mode,
            "trials": int(of_mode.sum()),
            "included": int((of_mode & shared).sum()),
            "excluded_status": int((of_mode & ~finished).sum()),
            "excluded_missing_metric": int((of_mode & finished & ~has_metric).sum()),
            "excluded_not_shared": int((of_mode & has_metric & ~shared).sum()),
            "starts": analysed["start"].nunique(),
            "seeds": analysed["seed"].nunique(),
            "start_values": ", ".join(f"{s:g}" for s in sorted(analysed["start"].unique())),
            "seed_values": ", ".join(str(s) for s in sorted(analysed["seed"].unique())),
        }
        row.update({f"status/{s}": int(n) for s, n in final.loc[of_mode, "status"].value_counts().items()})
        rows.append(row)
    counts = pd.DataFrame(rows)
    status_columns = [c for c in counts.columns if c.startswith("status/")]
    counts[status_columns] = counts[status_columns].fillna(0).astype(int)
    return counts


def per_start_summary(final: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Seed statistics of the final metric for each mode and starting weight (`start_mean` is the seed-mean)."""
    grouped = final.groupby(["weighting", "start"])[metric]
    table = grouped.agg(seeds="count", start_mean="mean", std="std", min="min", max="max").reset_index()
    order = {m: i for i, m in enumerate(ordered_weightings(table["weighting"].unique()))}
    return table.sort_values(["weighting", "start"], key=lambda c: c.map(order) if c.name == "weighting" else c, ignore_index=True)


def spread_across_starts(final: pd.DataFrame, metric: str, direction: Direction) -> pd.DataFrame:
    """How far the final metric moves with the starting weight, per mode: std and range of per-start seed-means."""
    rows = []
    for mode in ordered_weightings(final["weighting"].unique()):
        trials = final[final["weighting"] == mode]
        means = trials.groupby("start")[metric].mean()
        best = means.idxmax() if direction == "max" else means.idxmin()
        rows.append({
            "weighting": mode, "starts": len(means), "trials": len(trials),
            "start_means_std": means.std(ddof=1), "start_means_range": means.max() - means.min(),
            "pooled_std": trials[metric].std(ddof=1), "pooled_range": trials[metric].max() - trials[metric].min(),
            "pooled_mean": trials[metric].mean(), "best_start": best, "best_start_mean": means[best],
        })
    return pd.DataFrame(rows)


def equal_spread_tests(final: pd.DataFrame, metric: str, reference: str = REFERENCE_MODE) -> pd.DataFrame:
    """Brown-Forsythe (median-centred Levene) and classic Levene tests of each mode against `reference`.

    Samples: the final-epoch metric of every analysed trial of a mode, one value per trial,
    all starting weights and seeds pooled; so the tested spread holds both the effect of the
    starting weight and seed noise.
    """
    reference_values = final.loc[final["weighting"] == reference, metric].to_numpy(float)
    rows = []
    for mode in ordered_weightings(final["weighting"].unique()):
        if mode == reference:
            continue
        values = final.loc[final["weighting"] == mode, metric].to_numpy(float)
        for test, center in (("brown_forsythe", "median"), ("levene", "mean")):
            result = stats.levene(values, reference_values, center=center)
            rows.append({"weighting": mode, "reference": reference, "test": test, "center": center,
                         "statistic": float(result.statistic), "p_value": float(result.pvalue),
                         "n": len(values), "n_reference": len(reference_values)})
    return pd.DataFrame(rows)


def _start_mean_spread(trials: pd.DataFrame, metric: str) -> float:
    return float(trials.groupby("start")[metric].mean().std(ddof=1))


def _start_cells(trials: pd.DataFrame, metric: str) -> tuple[list[np.ndarray], list[tuple]]:
    """The metric of each start's trials, ordered by seed, and those seeds."""
    cells, seeds = [], []
    for _, rows in sorted(trials.groupby("start"), key=lambda item: item[0]):
        rows = rows.sort_values("seed", kind="stable")
        cells.append(rows[metric].to_numpy(float))
        seeds.append(tuple(rows["seed"].tolist()))
    return cells, seeds


def bootstrap_spread_ratio(final: pd.DataFrame, metric: str, mode: str = COMPARED_MODE, reference: str = REFERENCE_MODE,
                           resamples: int = 2000, confidence: float = 0.95, seed: int = 0) -> dict[str, float | str]:
    """Ratio of spreads across starts (mode / reference) with a BCa bootstrap interval (scipy.stats.bootstrap).

    Starts are kept as designed; seeds are resampled within each start, independently for the two
    modes (resampling seeds as blocks across both modes would tie the numerator's noise to the
    denominator's and narrow the interval of the ratio). The interval contains the estimate (see
    `analysis.core.resampling.seed_bootstrap`).
    """
    numerator, _ = _start_cells(final[final["weighting"] == mode], metric)
    denominator, _ = _start_cells(final[final["weighting"] == reference], metric)
    split = len(numerator)

    def ratio(*cells: np.ndarray, axis: int = -1) -> np.ndarray:
        means = np.stack([np.moveaxis(c, axis, -1).mean(axis=-1) for c in cells], axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (means[..., :split].std(axis=-1, ddof=1) / means[..., split:].std(axis=-1, ddof=1))[np.newaxis]

    found = seed_bootstrap(numerator + denominator, ratio, paired=False, n_resamples=resamples, confidence=confidence,
                           rng=np.random.default_rng(seed))
    return {"weighting": mode, "reference": reference, "spread_ratio": float(found.estimate[0]),
            "spread_ratio_ci_low": float(found.low[0]), "spread_ratio_ci_high": float(found.high[0]),
            "confidence": confidence, "resamples": resamples,
            "interval": "; ".join(n for n in ("BCa, seeds resampled within starts", found.notes[0]) if n)}


def _tradeoff_axes(frame: pd.DataFrame, metric: str, tradeoff: tuple[str, str] | Literal["auto"] | None) -> tuple[str, str] | None:
    """'auto': recon_bce (else recon_mse) against the compared metric, or against mig when the metric is a reconstruction."""
    if tradeoff != "auto":
        return tradeoff
    recon = "recon_bce" if "recon_bce" in frame.columns else "recon_mse"
    return recon, ("mig" if metric_mode(metric) == "min" else metric)


def compare_fixed_adaptive(frame: pd.DataFrame, metric: str, method: str | None = None, weight: str | None = None,
                           mode: Direction | None = None, *, tradeoff: tuple[str, str] | Literal["auto"] | None = "auto",
                           resamples: int = 2000, confidence: float = 0.95, seed: int = 0) -> dict[str, pd.DataFrame | float | str]:
    """Everything a report needs to say whether adaptive weighting is less sensitive to the starting weight.

    `frame` is the tidy frame; `mode` is the metric's direction ('max'/'min', default by name);
    `tradeoff` names the (reconstruction, disentanglement) columns of the Pareto analysis, None skips it.
    Frames: counts, per_start, spread, equal_spread_tests, spread_ratios, level, trajectories,
    convergence, front, tradeoff. Floats: the fixed-vs-adaptive headline values (keys in DEFINITIONS).
    """
    require_metric(frame, metric)
    direction = metric_mode(metric, mode)
    selected, method = select_method(label_option_variants(frame), method)  # an option variant is a method of its own
    require_both_modes(selected)
    weight = adaptive_weight_name(selected, weight)
    final, counts = analysed_final_rows(selected, metric, weight)
    tests = equal_spread_tests(final, metric)
    ratios = pd.DataFrame([bootstrap_spread_ratio(final, metric, m, REFERENCE_MODE, resamples, confidence, seed)
                           for m in ordered_weightings(final["weighting"].unique()) if m != REFERENCE_MODE])
    trajectories = weight_trajectories(selected[selected["trial_id"].isin(final["trial_id"])], weight)
    convergence = weight_convergence(trajectories)
    result: dict[str, pd.DataFrame | float | str] = {
        "method": method, "weight": weight, "metric": metric, "mode": direction,
        "counts": counts, "per_start": per_start_summary(final, metric),
        "spread": spread_across_starts(final, metric, direction), "equal_spread_tests": tests,
        "spread_ratios": ratios, "level": level_against_fixed(final, metric, direction, confidence),
        "trajectories": trajectories, "convergence": convergence,
    }
    adaptive_tests = tests[tests["weighting"] == COMPARED_MODE].set_index("test")
    adaptive_ratio = ratios.set_index("weighting").loc[COMPARED_MODE]
    for test in ("brown_forsythe", "levene"):
        result[f"{test}_statistic"] = float(adaptive_tests.loc[test, "statistic"])
        result[f"{test}_p"] = float(adaptive_tests.loc[test, "p_value"])
    for key in ("spread_ratio", "spread_ratio_ci_low", "spread_ratio_ci_high"):
        result[key] = float(adaptive_ratio[key])
    by_mode = convergence.set_index("weighting")
    for mode_name in (REFERENCE_MODE, COMPARED_MODE):
        result[f"convergence_ratio_{mode_name}"] = float(by_mode.loc[mode_name, "convergence_ratio"])

    axes = _tradeoff_axes(frame, metric, tradeoff)
    if axes is not None:
        x, y = axes
        require_columns(final, x, y)
        front, summary = tradeoff_by_mode(final, x, y, metric_mode(x), direction if y == metric else metric_mode(y))
        result.update({"tradeoff_x": x, "tradeoff_y": y, "front": front, "tradeoff": summary})
        shares = summary.set_index("weighting")
        for mode_name in (REFERENCE_MODE, COMPARED_MODE):
            result[f"share_on_front_{mode_name}"] = float(shares.loc[mode_name, "share_on_front"])
            result[f"hypervolume_{mode_name}"] = float(shares.loc[mode_name, "hypervolume"])
    return result
