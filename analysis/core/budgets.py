"""The epoch at which trials are compared (the budget), and each trial's value there.

Trials stopped early by ASHA, trials still running and trials that diverged end at different
epochs; comparing their last rows would compare different amounts of training. Every index
therefore compares trials at one budget per method:

- default: the largest evaluated epoch that every comparable trial reached (so early-stopped
  trials count at their rung);
- rungs: the last epochs of finished and early-stopped trials (where a scheduler compared them);
- final: the last evaluated epoch a finished trial reached.

A trial that diverged at or before the budget has no value there but is counted as diverged;
errored trials are left out.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from .frame import COMPARED_STATUSES, validate_frame, weight_columns

Budget = int | Mapping[str, int] | None


def _divergence_epochs(frame: pd.DataFrame, last_epoch: pd.Series, status: pd.Series) -> pd.Series:
    """First epoch at which each trial diverged (NaN if it never did)."""
    if "diverged" in frame.columns:
        flagged = frame[frame["diverged"].eq(True)]
        epochs = flagged.groupby("trial_id")["epoch"].min().reindex(last_epoch.index)
    else:
        epochs = pd.Series(np.nan, index=last_epoch.index)
    # a trial whose status says diverged but no row is flagged diverged at its last epoch
    return epochs.where(epochs.notna() | (status != "diverged"), last_epoch).astype(float)


def trial_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per trial (indexed by trial_id): method, weighting, seed, status, weights, last epoch, divergence epoch."""
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


def _last_evaluated(epochs: np.ndarray, limit: float) -> int:
    """The last evaluated epoch at or before `limit`; `limit` itself if none is that early."""
    reachable = epochs[epochs <= limit]
    return int(reachable.max()) if len(reachable) else int(limit)


def evaluated_budgets(frame: pd.DataFrame, metric: str) -> dict[str, list[int]]:
    """Per method, every epoch at which the metric was evaluated: the budgets early stopping could have used."""
    validate_frame(frame, metric)
    return {method: [int(e) for e in epochs] for method, epochs in _evaluated_epochs(frame, metric).items()}


def default_budgets(frame: pd.DataFrame, metric: str) -> dict[str, int]:
    """Per method, the largest evaluated epoch that every trial reached, leaving out trials that errored,
    diverged (an outcome at any budget) or never reported: early-stopped trials count at their rung."""
    validate_frame(frame, metric)
    summary, evaluated = trial_summary(frame), _evaluated_epochs(frame, metric)
    budgets: dict[str, int] = {}
    for method, trials in summary.groupby("method"):
        comparable = trials[(trials["status"] != "error") & trials["diverged_epoch"].isna() & (trials["last_epoch"] >= 1)]
        common = comparable["last_epoch"].min() if len(comparable) else trials["last_epoch"].max()
        budgets[method] = _last_evaluated(evaluated.get(method, np.array([])), common)
    return budgets


def final_budgets(frame: pd.DataFrame, metric: str) -> dict[str, int]:
    """Per method, the last evaluated epoch that a finished trial reached (else any trial)."""
    validate_frame(frame, metric)
    summary, evaluated = trial_summary(frame), _evaluated_epochs(frame, metric)
    budgets: dict[str, int] = {}
    for method, trials in summary.groupby("method"):
        finished = trials[(trials["status"] == "finished") & trials["diverged_epoch"].isna()]
        last = (finished if len(finished) else trials)["last_epoch"].max()
        budgets[method] = _last_evaluated(evaluated.get(method, np.array([])), last)
    return budgets


def rung_budgets(frame: pd.DataFrame, metric: str) -> dict[str, list[int]]:
    """Per method, the budgets at which trials were compared: the last epochs of finished and early-stopped
    trials (a rung where the scheduler stopped one, or the final budget), where the metric was evaluated."""
    summary, evaluated = trial_summary(frame), _evaluated_epochs(frame, metric)
    fallback = default_budgets(frame, metric)
    budgets: dict[str, list[int]] = {}
    for method, trials in summary.groupby("method"):
        compared = trials[trials["status"].isin(COMPARED_STATUSES) & trials["diverged_epoch"].isna()]
        rungs = set(compared["last_epoch"].astype(int)) & set(evaluated.get(method, np.array([])).astype(int).tolist())
        budgets[method] = sorted(rungs) or [fallback[method]]
    return budgets


def resolve_budgets(frame: pd.DataFrame, metric: str, budget: Budget) -> dict[str, int]:
    """`budget` as {method: epoch}: an epoch for all methods, a partial mapping (the rest default), or None (all default)."""
    methods = frame["config/method"].dropna().unique()
    if budget is None:
        return default_budgets(frame, metric)
    if isinstance(budget, Mapping):
        fallback = default_budgets(frame, metric)
        return {m: int(budget.get(m, fallback[m])) for m in methods}
    if int(budget) < 1:
        raise ValueError(f"budget must be an epoch >= 1, got {budget}")
    return {m: int(budget) for m in methods}


def trial_values(frame: pd.DataFrame, metric: str, budget: Budget = None) -> pd.DataFrame:
    """One row per trial at its method's budget, so that every index compares trials at the same epoch.

    `value` is the metric at the budget epoch (NaN if the trial diverged by then: `diverged` is
    True). Errored trials, and trials that neither reached the budget nor diverged by it, are
    left out. Columns: trial_id, method, weighting, seed, status, the weight columns, last_epoch,
    diverged_epoch, budget, value, diverged.
    """
    validate_frame(frame, metric)
    summary = trial_summary(frame)
    summary["budget"] = summary["method"].map(resolve_budgets(frame, metric, budget))
    at_epoch = frame[["trial_id", "epoch", metric]].drop_duplicates(["trial_id", "epoch"], keep="last")
    at_epoch = at_epoch.rename(columns={"epoch": "budget", metric: "value"})
    trials = summary.reset_index().merge(at_epoch, on=["trial_id", "budget"], how="left")
    trials["diverged"] = trials["diverged_epoch"] <= trials["budget"]
    trials["value"] = trials["value"].astype(float).where(~trials["diverged"])
    counted = (trials["status"] != "error") & ((trials["last_epoch"] >= trials["budget"]) | trials["diverged"])
    return trials[counted].reset_index(drop=True)
