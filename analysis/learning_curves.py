"""Learning curves: a metric over epochs, one line per trial, to tell a run that is still rising
from one that has levelled off (the question every reproduction that falls short must answer).

Reads the tidy frame of `analysis.tidy.load_experiment`; only the epochs at which the metric was
evaluated are drawn. `study curves` is the command-line face of this module.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from trainables.metric_registry import METRICS, direction_of, label_of

TRIAL_KEYS = ["experiment", "trial_id"]
# Config columns that never tell two runs apart in a legend (bookkeeping, not settings).
_NOT_LABELS = {"config/eval_every", "config/eval_size", "config/data_root", "config/epochs"}  # epochs: the x axis shows it


def _short(column: str) -> str:
    return column.removeprefix("config/weights/").removeprefix("config/options/").removeprefix("config/")


def _by_value(column: pd.Series) -> pd.Series:
    """Sort key: numbers by size (tc_weight=4 before 16), anything else by its text."""
    return column if pd.api.types.is_numeric_dtype(column) else column.astype(str)


def trial_labels(tidy: pd.DataFrame) -> pd.Series:
    """A legend label per trial: method and dataset, then every setting that differs between the trials shown.

    The labels are an ordered categorical: runs sort by method, dataset and then the differing
    settings' values (numbers by size), so legends and tables list 4 before 16.
    """
    configs = tidy.groupby(TRIAL_KEYS, sort=False).first()
    columns = [c for c in configs.columns if c.startswith("config/") and c not in _NOT_LABELS and c not in ("config/method", "config/dataset")]
    varying = [c for c in columns if configs[c].astype(str).nunique() > 1]
    order_by = [c for c in ("config/method", "config/dataset") if c in configs.columns] + varying
    configs = configs.sort_values(order_by, key=_by_value, kind="stable") if order_by else configs

    def label(row: pd.Series) -> str:
        parts = [str(row["config/method"])]
        if "config/dataset" in row.index and configs["config/dataset"].nunique() > 1:
            parts.append(str(row["config/dataset"]))
        parts += [f"{_short(c)}={row[c]:g}" if isinstance(row[c], float) else f"{_short(c)}={row[c]}" for c in varying if pd.notna(row[c])]
        return " ".join(parts)

    labels = configs.apply(label, axis=1)
    return pd.Series(pd.Categorical(labels, categories=list(dict.fromkeys(labels)), ordered=True), index=labels.index, name="run")


def curve_table(tidy: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Long table (run, epoch, metric, value) of the evaluated epochs; names a metric the frame lacks."""
    missing = [m for m in metrics if m not in tidy.columns or tidy[m].notna().sum() == 0]
    if missing:
        present = sorted(c for c in tidy.columns if (c in METRICS or c.startswith(("loss/", "disc_acc/"))) and tidy[c].notna().any())
        raise ValueError(f"no values of {missing} in these experiments (metrics with values: {present})")
    labels = trial_labels(tidy)
    rows = tidy.join(labels, on=TRIAL_KEYS)
    long = rows.melt(id_vars=[*TRIAL_KEYS, "run", "epoch"], value_vars=metrics, var_name="metric", value_name="value")
    return long.dropna(subset=["value"]).sort_values(["metric", "run", "epoch"], ignore_index=True)


def curve_summary(curves: pd.DataFrame) -> pd.DataFrame:
    """Per run and metric: the last evaluated value, the best one and its epoch, and the change over the
    last quarter of the evaluated epochs (in the metric's better direction: > 0 means still improving)."""
    records = []
    for (metric, run), group in curves.groupby(["metric", "run"], sort=True, observed=True):
        group = group.sort_values("epoch")
        sign = 1.0 if direction_of(metric) == "max" else -1.0
        best = group.loc[(sign * group["value"]).idxmax()]
        last_epoch = group["epoch"].iloc[-1]
        cutoff = last_epoch - 0.25 * (last_epoch - group["epoch"].iloc[0])
        earlier = group[group["epoch"] <= cutoff]
        reference = earlier["value"].iloc[-1] if len(earlier) else group["value"].iloc[0]
        records.append({"metric": metric, "run": run, "last epoch": int(last_epoch), "last": group["value"].iloc[-1],
                        "best": best["value"], "best epoch": int(best["epoch"]),
                        "gain over last quarter": sign * (group["value"].iloc[-1] - reference)})
    return pd.DataFrame.from_records(records)


def learning_curves_figure(curves: pd.DataFrame, targets: dict[str, float] | None = None) -> Figure:
    """One panel per metric, one line per run over epochs; a dashed line at each target (e.g. a paper's number)."""
    metrics = list(dict.fromkeys(curves["metric"]))
    fig, axes = plt.subplots(1, len(metrics), figsize=(max(6.0, 4.8 * len(metrics)), 4.0), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        data = curves[curves["metric"] == metric]
        sns.lineplot(data=data, x="epoch", y="value", hue="run", marker="o", estimator=None, units="trial_id", ax=ax)
        if targets and metric in targets:
            ax.axhline(targets[metric], color="black", linestyle="--", linewidth=1, label=f"target {targets[metric]:g}")
        ax.set_ylabel(label_of(metric))
        ax.set_title(label_of(metric), fontsize=10)
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
