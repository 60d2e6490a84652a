"""Is a controller's final metric as good as a fixed weight's? The level beside the spread.

A controller can make the final metric insensitive to the starting weight by steering every start
to the same poor place (FactorVAE's, at the broadcast budget, drove gamma to its floor). So beside
the spread across starts, `study compare` asks two questions of each controlled mode's trials, all
starts pooled (the controller's promise is that the start does not matter):

- against the **best fixed start** (its seeds): does the controller match a well-tuned fixed weight?
  The best start is chosen on the same seeds, so this difference leans in fixed weighting's favour;
- against **all fixed trials** pooled: does it beat a fixed weight picked without tuning (a start
  drawn from the swept grid)?

Each difference is mode minus reference with Welch's t interval and p (scipy.stats.ttest_ind,
unequal variances): one value per trial, so starts and seeds are pooled in the controlled mode.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from trainables.metric_registry import Direction

from .core.frame import ordered_weightings

REFERENCE_MODE = "fixed"


def _welch(values: np.ndarray, reference: np.ndarray, confidence: float) -> dict[str, float]:
    difference = float(values.mean() - reference.mean())
    if len(values) < 2 or len(reference) < 2 or (np.ptp(values) == 0 and np.ptp(reference) == 0):
        # no variance to test with: the difference is exact on these trials, the test undefined
        return {"difference": difference, "ci_low": np.nan, "ci_high": np.nan, "p_value": np.nan}
    test = stats.ttest_ind(values, reference, equal_var=False)
    interval = test.confidence_interval(confidence)
    return {"difference": difference, "ci_low": float(interval.low), "ci_high": float(interval.high),
            "p_value": float(test.pvalue)}


def level_against_fixed(final: pd.DataFrame, metric: str, direction: Direction, confidence: float = 0.95) -> pd.DataFrame:
    """One row per controlled mode and reference ('best fixed start', 'all fixed starts').

    `final` holds the analysed final-epoch rows with `weighting` and `start` columns
    (`analysis.adaptive.analysed_final_rows`). Columns: weighting, reference, reference_start (the
    best start, or NaN), n, n_reference, mean, reference_mean, difference (mode - reference), ci_low,
    ci_high, p_value, better (the mode's name, 'fixed', or 'no detectable difference' at 1 - confidence).
    """
    fixed = final[final["weighting"] == REFERENCE_MODE]
    if fixed.empty:
        raise ValueError("no fixed trials to compare the controlled modes' level with")
    start_means = fixed.groupby("start")[metric].mean()
    best_start = start_means.idxmax() if direction == "max" else start_means.idxmin()
    references = {
        "best fixed start": (best_start, fixed.loc[fixed["start"] == best_start, metric].to_numpy(float)),
        "all fixed starts": (np.nan, fixed[metric].to_numpy(float)),
    }
    rows = []
    for mode in ordered_weightings(final["weighting"].unique()):
        if mode == REFERENCE_MODE:
            continue
        values = final.loc[final["weighting"] == mode, metric].to_numpy(float)
        for name, (start, reference) in references.items():
            found = _welch(values, reference, confidence)
            better = "no detectable difference"
            if pd.notna(found["p_value"]) and found["p_value"] < 1 - confidence:
                mode_higher = found["difference"] > 0
                better = mode if mode_higher == (direction == "max") else REFERENCE_MODE
            rows.append({"weighting": mode, "reference": name, "reference_start": start, "n": len(values),
                         "n_reference": len(reference), "mean": float(values.mean()),
                         "reference_mean": float(reference.mean()), **found, "better": better})
    return pd.DataFrame(rows)
