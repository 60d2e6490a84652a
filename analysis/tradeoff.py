"""The reconstruction-vs-disentanglement trade-off: Pareto fronts and hypervolumes per weighting mode.

A weighting that only buys disentanglement with reconstruction moves along the front; one that
improves both moves the front. Both axes become costs ("smaller is better") so one dominance rule
serves every pair of directions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trainables.metric_registry import Direction

from .core.frame import ordered_weightings, require_columns


def _as_costs(frame: pd.DataFrame, x: str, y: str, x_mode: Direction, y_mode: Direction) -> np.ndarray:
    """Both axes turned into 'smaller is better' so one dominance rule serves all four mode pairs."""
    for name, direction in ((x, x_mode), (y, y_mode)):
        if direction not in ("min", "max"):
            raise ValueError(f"mode for {name!r} must be 'min' or 'max', not {direction!r}")
    signs = np.array([1.0 if x_mode == "min" else -1.0, 1.0 if y_mode == "min" else -1.0])
    return frame[[x, y]].to_numpy(float) * signs


def pareto_front(frame: pd.DataFrame, x: str = "recon_bce", y: str = "mig",
                 x_mode: Direction = "min", y_mode: Direction = "max") -> pd.DataFrame:
    """The rows no other row dominates (as good on both axes, strictly better on one), sorted by x.

    Rows with NaN in x or y are left out; identical points do not dominate each other, so all are kept.
    """
    require_columns(frame, x, y)
    points = frame.dropna(subset=[x, y])
    costs = _as_costs(points, x, y, x_mode, y_mode)
    no_worse = (costs[:, None, :] <= costs[None, :, :]).all(axis=2)  # [i, j]: i is no worse than j on both
    better = (costs[:, None, :] < costs[None, :, :]).any(axis=2)
    dominated = (no_worse & better).any(axis=0)
    return points[~dominated].sort_values(x, kind="stable")


def hypervolume(frame: pd.DataFrame, reference: tuple[float, float], x: str = "recon_bce", y: str = "mig",
                x_mode: Direction = "min", y_mode: Direction = "max") -> float:
    """Area dominated by the points' Pareto front and bounded by `reference` (x, y); points beyond it add nothing."""
    front = pareto_front(frame, x, y, x_mode, y_mode)
    costs = _as_costs(front, x, y, x_mode, y_mode)
    bound = _as_costs(pd.DataFrame([reference], columns=[x, y]), x, y, x_mode, y_mode)[0]
    costs = np.unique(costs[(costs < bound).all(axis=1)], axis=0)  # sorted by x cost; y cost then decreases
    if not len(costs):
        return 0.0
    widths = np.append(costs[1:, 0], bound[0]) - costs[:, 0]
    return float(np.sum(widths * (bound[1] - costs[:, 1])))


def tradeoff_by_mode(final: pd.DataFrame, x: str = "recon_bce", y: str = "mig",
                     x_mode: Direction = "min", y_mode: Direction = "max") -> tuple[pd.DataFrame, pd.DataFrame]:
    """The joint Pareto front of all modes' trials, and per mode its share on it and its own hypervolume.

    The hypervolume's reference point is the worst x and worst y over all modes' trials, the same
    for every mode so their hypervolumes compare.
    """
    require_columns(final, x, y)
    points = final.dropna(subset=[x, y])
    front = pareto_front(points, x, y, x_mode, y_mode)
    reference = (points[x].max() if x_mode == "min" else points[x].min(),
                 points[y].max() if y_mode == "min" else points[y].min())
    rows = []
    for mode in ordered_weightings(final["weighting"].unique()):
        of_mode = points[points["weighting"] == mode]
        on_front = int((front["weighting"] == mode).sum())
        rows.append({"weighting": mode, "trials_with_both": len(of_mode), "on_front": on_front,
                     "share_on_front": on_front / len(of_mode) if len(of_mode) else np.nan,
                     "hypervolume": hypervolume(of_mode, reference, x, y, x_mode, y_mode) if len(of_mode) else np.nan,
                     "reference_x": reference[0], "reference_y": reference[1]})
    columns = ["trial_id", "weighting", "start", "seed", x, y]
    return front[list(dict.fromkeys(columns))].reset_index(drop=True), pd.DataFrame(rows)
