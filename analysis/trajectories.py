"""Where the controller drives the weight: its trajectory per trial, and whether different starts meet.

Logs, because starting weights are set on a log grid and the controller moves the weight by
factors: starts that converge to one value shrink the spread of log weight across starts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .core.frame import ordered_weightings, require_columns, round_weights


def weight_trajectories(frame: pd.DataFrame, weight: str) -> pd.DataFrame:
    """The weight's value at each epoch of each trial: columns trial_id, weighting, start, seed, epoch, weight."""
    require_columns(frame, f"weight/{weight}", f"config/weights/{weight}")
    rows = frame[frame["epoch"] >= 1]
    trajectories = pd.DataFrame({
        "trial_id": rows["trial_id"], "weighting": rows["config/weighting"],
        "start": round_weights(rows[f"config/weights/{weight}"]), "seed": rows["config/seed"],
        "epoch": rows["epoch"], "weight": rows[f"weight/{weight}"].astype(float),
    }).dropna(subset=["weight"])
    return trajectories.sort_values(["weighting", "start", "seed", "epoch"], ignore_index=True)


def _log_spread_across_starts(log_weights: pd.Series, starts: pd.Series) -> float:
    """Std across starts of the per-start seed-mean of log weight."""
    return float(log_weights.groupby(starts).mean().std(ddof=1))


def weight_convergence(trajectories: pd.DataFrame) -> pd.DataFrame:
    """Per mode: do trajectories from different starts end at one weight? Spreads of log weight across starts.

    Logs, because starting weights are set on a log grid and the controller moves the weight by factors.
    """
    if (trajectories["weight"] <= 0).any():
        raise ValueError("weights must be positive to compare them on a log scale")
    rows = []
    for mode in ordered_weightings(trajectories["weighting"].unique()):
        trials = trajectories[trajectories["weighting"] == mode].sort_values("epoch").groupby("trial_id")
        first, last = trials.head(1).set_index("trial_id"), trials.tail(1).set_index("trial_id")
        starting = _log_spread_across_starts(np.log(first["start"]), first["start"])
        at_first = _log_spread_across_starts(np.log(first["weight"]), first["start"])
        at_last = _log_spread_across_starts(np.log(last["weight"]), last["start"])
        with np.errstate(divide="ignore", invalid="ignore"):
            rows.append({
                "weighting": mode, "starts": first["start"].nunique(), "trials": len(first),
                "log_spread_start": starting, "log_spread_first_epoch": at_first, "log_spread_last_epoch": at_last,
                "convergence_ratio": float(np.divide(at_last, starting)),
                "convergence_ratio_epoch1": float(np.divide(at_last, at_first)),
                "final_weight_geomean": float(np.exp(np.log(last["weight"]).mean())),
                "final_weight_min": float(last["weight"].min()), "final_weight_max": float(last["weight"].max()),
            })
    return pd.DataFrame(rows)
