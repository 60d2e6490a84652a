"""The on-screen summary of a study: final metrics per method, weighting mode and weight, over seeds.

Each metric comes with the seed mean's 95% Student-t interval (scipy.stats.t; cut to the metric's
range in `trainables.metric_registry`, so an accuracy's never passes 1), so that a table
of two or three seeds says itself how little it can tell apart; `noise_note` names, per metric,
the rows whose intervals overlap the best row's: differences there are within seed noise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from trainables.metric_registry import bounds_of

from .core.frame import metric_mode
from .tidy import final_rows
from .variants import OPTION_PREFIX, filled_options

CONFIDENCE = 0.95


def _t_interval(values: pd.Series, bounds: tuple[float, float] = (-np.inf, np.inf)) -> tuple[float, float]:
    """95% t interval of the mean, cut to the values the metric can take (a two-seed accuracy interval
    would otherwise pass 100%); NaN below two finite values. A zero spread gives [mean, mean]."""
    finite = values.dropna().to_numpy(dtype=float)
    if finite.size < 2:
        return np.nan, np.nan
    if np.ptp(finite) == 0:
        return finite[0], finite[0]
    low, high = stats.t.interval(CONFIDENCE, finite.size - 1, loc=finite.mean(), scale=stats.sem(finite))
    return max(low, bounds[0]), min(high, bounds[1])


SUMMARY_METRICS = ("mig", "recon_bce")


def headline_metrics(metric: str | None = None) -> tuple[str, ...]:
    """The summary's metrics: MIG and the reconstruction error, led by a spec's own `metric` (the one
    its search optimises) when that is another one; the two keep their order otherwise."""
    return SUMMARY_METRICS if metric in (None, *SUMMARY_METRICS) else (metric, *SUMMARY_METRICS)


def summarize(tidy: pd.DataFrame, metrics: tuple[str, ...] = headline_metrics()) -> pd.DataFrame:
    """Mean, standard deviation and 95% t interval over seeds of each metric at each trial's last epoch.

    Rows: method x weighting x starting weights x every option that differs between the trials
    (column `options/<name>`), so two entries of one method with different options are never
    pooled into one mean; `trials` counts the seeds behind each row and `statuses` how those
    trials ended.
    """
    # an entry that leaves an option out ran with the method's default: show that, not a blank
    final = filled_options(final_rows(tidy))
    weight_columns = sorted(c for c in final.columns if c.startswith("config/weights/"))
    option_columns = [c for c in sorted(final.columns) if c.startswith(OPTION_PREFIX) and final[c].nunique(dropna=False) > 1]
    keys = ["config/method", "config/weighting"] + weight_columns + option_columns
    # a metric no trial reported (MIG on a dataset without known factors) gets no empty columns
    present = [m for m in metrics if m in final.columns and final[m].notna().any()]
    grouped = final.groupby(keys, dropna=False)
    if present:
        table = grouped[present].agg(["mean", "std"])
        table.columns = [f"{metric} {stat}" for metric, stat in table.columns]
    else:  # no trial reported any of the metrics (every trial diverged before an evaluation, say)
        table = pd.DataFrame(index=grouped.size().index)
    for metric in present:
        bounds = grouped[metric].apply(_t_interval, bounds=bounds_of(metric))
        # a zero spread gives the point itself; min/max keep the table's own mean inside despite rounding
        table[f"{metric} low"] = np.fmin([b[0] for b in bounds], table[f"{metric} mean"])
        table[f"{metric} high"] = np.fmax([b[1] for b in bounds], table[f"{metric} mean"])
    table = table[[f"{m} {s}" for m in present for s in ("mean", "std", "low", "high")]]
    table["trials"] = grouped.size()
    table["statuses"] = grouped["status"].agg(lambda s: ",".join(f"{k}:{v}" for k, v in s.value_counts().items()))
    table = table.reset_index()
    table.columns = [c.removeprefix("config/weights/").removeprefix("config/") for c in table.columns]
    table.attrs["unreported"] = [m for m in metrics if m not in present]
    return table


def noise_note(table: pd.DataFrame, modes: dict[str, str] | None = None) -> list[str]:
    """One line per metric of `summarize`'s table: the best row, and the rows whose 95% intervals
    overlap its own (within seed noise of it). `modes`: metric -> "max" or "min" (default: the
    metric's direction in `trainables.metric_registry`)."""
    lines = [f"{metric}: no trial reported it (not computed for this dataset, or no trial reached an evaluation)"
             for metric in table.attrs.get("unreported", [])]
    label_columns = [c for c in table.columns if not c.endswith((" mean", " std", " low", " high")) and c not in ("trials", "statuses")]
    for metric in [c.removesuffix(" mean") for c in table.columns if c.endswith(" mean")]:
        rows = table.dropna(subset=[f"{metric} low", f"{metric} high"])
        if rows.empty:
            lines.append(f"{metric}: no row has two finite seeds, so no interval")
            continue
        mode = (modes or {}).get(metric) or metric_mode(metric)
        best = rows[f"{metric} mean"].idxmax() if mode == "max" else rows[f"{metric} mean"].idxmin()
        overlap = rows[(rows[f"{metric} low"] <= rows.loc[best, f"{metric} high"]) & (rows[f"{metric} high"] >= rows.loc[best, f"{metric} low"])]
        best_row = " ".join(f"{table.loc[best, c]:.4g}" if isinstance(table.loc[best, c], float) else str(table.loc[best, c]) for c in label_columns)
        lines.append(f"{metric}: best ({mode}) {best_row}; {len(overlap) - 1} of {len(rows) - 1} other rows within seed noise of it (95% intervals overlap)")
    return lines
