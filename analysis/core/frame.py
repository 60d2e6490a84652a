"""The tidy frame's vocabulary: columns, statuses, weighting modes, weights, metric directions.

The tidy frame (`analysis.tidy.load_experiment`) has a row per trial and epoch; every index
reads it through these names, so a rule (which statuses are compared, how a weight value is
rounded, which direction is better) is written here once.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from trainables.metric_registry import DIRECTIONS, Direction, direction_of

STATUSES = ("finished", "early_stopped", "diverged", "error", "unfinished")
COMPARED_STATUSES = frozenset({"finished", "early_stopped"})  # their last epoch is a rung or the end
REQUIRED_COLUMNS = ("trial_id", "status", "epoch", "config/method", "config/weighting", "config/seed")
WEIGHT_PREFIX = "config/weights/"
WEIGHTING_ORDER = ("fixed", "adaptive", "annealed")
WEIGHT_DIGITS = 10  # significant digits that identify a weight value (config values carry float noise)
TRAINING_PREFIXES = ("config/", "weight/", "loss/", "time/", "disc_acc/", "controller/")
BOOKKEEPING = ("experiment", "trial_id", "status", "epoch", "trial_dir", "error", "diverged")


def metric_mode(metric: str, mode: str | None = None) -> Direction:
    """The direction that is better for `metric`: `mode` if given, else the registry's."""
    chosen = direction_of(metric) if mode is None else mode
    if chosen not in DIRECTIONS:
        raise ValueError(f"mode must be 'max' or 'min', got {chosen!r}")
    return chosen


def weight_columns(frame: pd.DataFrame, present: bool = False) -> list[str]:
    """The `config/weights/<name>` columns of the frame, sorted; with `present`, only those with a value
    (a frame of several methods has a column for every method's weights)."""
    return sorted(c for c in frame.columns if c.startswith(WEIGHT_PREFIX) and (not present or frame[c].notna().any()))


def canonical_weights(values: Iterable[float]) -> np.ndarray:
    """Weight values rounded to WEIGHT_DIGITS significant digits, so that 50.000000000000014 and 50 are one value."""
    return np.array([float(f"{v:.{WEIGHT_DIGITS}g}") for v in values])


def round_weights(values: pd.Series) -> pd.Series:
    """`canonical_weights` for a column, keeping its index."""
    return pd.Series(canonical_weights(values), index=values.index, name=values.name)


def ordered_weightings(modes: Iterable[str]) -> list[str]:
    """Fixed first, then adaptive, annealed, then anything else alphabetically: stable report rows."""
    present = set(modes)
    return [m for m in WEIGHTING_ORDER if m in present] + sorted(present - set(WEIGHTING_ORDER))


def metric_columns(frame: pd.DataFrame) -> list[str]:
    """The columns of the frame that are metrics: not config, bookkeeping or training signals."""
    return sorted(c for c in frame.columns if c not in BOOKKEEPING and not c.startswith(TRAINING_PREFIXES))


def require_columns(frame: pd.DataFrame, *columns: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"column(s) {missing} not in the frame; its columns: {sorted(frame.columns)}")


def require_metric(frame: pd.DataFrame, metric: str) -> None:
    """The metric must be a numeric column; the error lists the metric columns there are."""
    if metric not in frame.columns:
        raise ValueError(f"unknown metric {metric!r}; the frame's metric columns are {metric_columns(frame)}")
    if not pd.api.types.is_numeric_dtype(frame[metric]):
        raise ValueError(f"metric {metric!r} is not numeric (dtype {frame[metric].dtype})")


def validate_frame(frame: pd.DataFrame, metric: str) -> None:
    """Raise a ValueError naming the problem if `frame` is not a tidy frame holding `metric`."""
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"the frame lacks the column(s) {missing}; is it the tidy frame of load_experiment?")
    if not weight_columns(frame):
        raise ValueError(f"the frame has no loss-weight column ({WEIGHT_PREFIX}<name>)")
    require_metric(frame, metric)
    unknown = set(frame["status"].dropna().unique()) - set(STATUSES)
    if unknown:
        raise ValueError(f"unknown trial status(es) {sorted(unknown)}; known: {sorted(STATUSES)}")
    weights = frame[weight_columns(frame)].to_numpy(dtype=float)
    if (weights[np.isfinite(weights)] <= 0).any():
        raise ValueError("loss weights must be positive: the indices work on the log scale of the weights")
