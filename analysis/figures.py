"""The report's figures, drawn with seaborn from tidy frames. Each function returns a Figure.

All take the frame of one value per trial (its metric at the budget the report uses) unless
they say otherwise; the caller saves and closes them.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only: reports are written on headless machines

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from trainables.metric_registry import label_of

from .core.frame import round_weights, weight_columns

sns.set_theme(style="whitegrid", context="notebook")


def _short(column: str) -> str:
    return column.removeprefix("config/weights/").removeprefix("config/")


def sensitivity_curves(trials: pd.DataFrame, metric: str, method: str) -> Figure:
    """Metric against each weight of a method on a log axis: the seed mean as a line, the seeds' range as a band, one panel per weight, one line per weighting mode."""
    rows = trials[trials["config/method"] == method]
    weights = [c for c in weight_columns(rows, present=True)]
    panels = max(len(weights), 1)
    fig, axes = plt.subplots(1, panels, figsize=(max(6.0, 4.5 * panels), 3.8), squeeze=False)
    for ax, weight in zip(axes[0], weights):
        data = rows.assign(_w=round_weights(rows[weight]))
        sns.lineplot(data=data, x="_w", y=metric, hue="config/weighting", marker="o", errorbar=("pi", 100), ax=ax)
        sns.scatterplot(data=data, x="_w", y=metric, hue="config/weighting", alpha=0.35, legend=False, ax=ax, s=18)
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(f"{_short(weight)} (start)")
        ax.set_ylabel(label_of(metric))
        ax.legend(title="weighting", fontsize=8)
    fig.suptitle(f"{method}: {label_of(metric)} (line: seed mean, band: seed range)", fontsize=10)
    fig.tight_layout()
    return fig


def weight_pair_heatmap(trials: pd.DataFrame, metric: str, method: str, first: str, second: str) -> Figure:
    """Seed-mean metric over a grid of two weights."""
    rows = trials[trials["config/method"] == method]
    table = rows.assign(**{first: rows[first].round(4), second: rows[second].round(4)}).pivot_table(index=second, columns=first, values=metric, aggfunc="mean")
    fig, ax = plt.subplots(figsize=(1.1 * table.shape[1] + 2.5, 0.6 * table.shape[0] + 2))
    sns.heatmap(table.sort_index(ascending=False), annot=True, fmt=".3g", cmap="viridis", ax=ax, cbar_kws={"label": metric})
    ax.set_xlabel(_short(first))
    ax.set_ylabel(_short(second))
    ax.set_title(f"{method}: seed-mean {label_of(metric)}", fontsize=10)
    fig.tight_layout()
    return fig


def importance_bars(importance: pd.DataFrame) -> Figure:
    """Per-weight importance by evaluator: columns method, evaluator, weight, importance."""
    data = importance.dropna(subset=["importance"])
    fig, ax = plt.subplots(figsize=(6, 0.45 * max(len(data), 4) + 1))
    if len(data):
        sns.barplot(data=data.assign(label=data["method"] + " / " + data["weight"]), y="label", x="importance", hue="evaluator", ax=ax)
    ax.set_xlim(0, 1)
    ax.set_ylabel("")
    ax.set_title("weight importance (share of the metric's variance)", fontsize=10)
    fig.tight_layout()
    return fig


def weight_trajectories(tidy: pd.DataFrame, method: str, weight: str) -> Figure:
    """The driven weight over epochs, one line per trial, coloured by its starting value (log scale)."""
    rows = tidy[(tidy["config/method"] == method) & tidy[f"weight/{weight}"].notna()]
    data = rows.assign(start=rows[f"config/weights/{weight}"].round(4).astype(str))
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    sns.lineplot(data=data, x="epoch", y=f"weight/{weight}", hue="start", style="config/weighting", units="trial_id", estimator=None, ax=ax, linewidth=1.2)
    ax.set_yscale("log")
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_ylabel(f"{weight} (end of epoch)")
    ax.set_title(f"{method}: {weight} over training, per trial", fontsize=10)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return fig


def tradeoff_scatter(trials: pd.DataFrame, x: str, y: str, front: pd.DataFrame | None = None) -> Figure:
    """Reconstruction vs disentanglement per trial, hue = method / weighting; the Pareto front joined by a line."""
    data = trials.dropna(subset=[x, y])
    data = data.assign(group=data["config/method"] + " / " + data["config/weighting"])
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    sns.scatterplot(data=data, x=x, y=y, hue="group", style="group", s=40, ax=ax)
    if front is not None and len(front):
        ordered = front.sort_values(x)
        ax.plot(ordered[x], ordered[y], color="black", linewidth=1, linestyle="--", label="Pareto front")
    ax.legend(fontsize=7)
    ax.set_title(f"trade-off: {x} vs {y}", fontsize=10)
    fig.tight_layout()
    return fig


def metric_correlation(trials: pd.DataFrame, metrics: list[str]) -> Figure:
    """Spearman correlation between metrics across trials: do the disentanglement metrics agree?"""
    present = [m for m in metrics if m in trials.columns and trials[m].notna().sum() > 2 and trials[m].nunique() > 1]
    corr = trials[present].corr(method="spearman")
    fig, ax = plt.subplots(figsize=(0.6 * len(present) + 3, 0.5 * len(present) + 2.5))
    mask = np.triu(np.ones_like(corr, dtype=bool), k=1)
    sns.heatmap(corr, mask=mask, annot=True, fmt=".2f", vmin=-1, vmax=1, cmap="vlag", ax=ax, annot_kws={"fontsize": 7})
    ax.set_title("Spearman correlation between metrics across trials", fontsize=10)
    fig.tight_layout()
    return fig
