"""Seed 001's table 4a, paper against here, and the IMAE - InfoVAE clustering gap with its interval.

Reads `study rescore` tables (rescored.csv: one row per trial, every metric of this code, TC(y; z)
included) and, for runs that kept no checkpoint, tidy tables (tidy.csv: each trial's last evaluated
epoch; no TC(y; z) there), and prints markdown:

    python results/reproduction/seed001_table.py results/reproduction/*/rescored.csv results/reproduction/imae-family-mnist/tidy.csv

Means over the seeds each cell has (n given); the gap is Welch's t interval (scipy.stats) on the
seeds' clustering accuracies, with its p-value: with 2-3 seeds a cell the interval is wide, and
it says so rather than calling a difference an effect.
"""

from __future__ import annotations

import sys

import pandas as pd
from scipy import stats

PAPER = {  # seed 001, table 4a (beta = gamma = 5): reconstruction, I(x;y), I(x;z), TC(y;z), in nats
    "mnist": {"beta_vae": (141.5, 0.0, 4.4, 0.0), "joint_vae": (127.3, 1.9, 5.6, 2.3), "info_vae": (121.5, 1.7, 6.8, 1.5), "imae": (117.9, 1.8, 7.2, 0.8)},
    "fashion_mnist": {"beta_vae": (252.5, 0.0, 4.6, 0.0), "joint_vae": (256.0, 1.8, 4.7, 2.6), "info_vae": (247.1, 0.9, 6.0, 0.7), "imae": (234.9, 1.7, 8.5, 0.0)},
}
METHODS = ("beta_vae", "joint_vae", "info_vae", "imae")


def table_4a(rows: pd.DataFrame) -> str:
    lines = ["| dataset | method | seeds | recon: paper / here | I(x;y): paper / here | I(x;z): paper / here | TC(y;z): paper / here (seeds) | clustering accuracy here |",
             "|---|---|---:|---|---|---|---|---|"]
    for dataset in PAPER:
        for method in METHODS:
            cell = rows[(rows["dataset"] == dataset) & (rows["method"] == method)]
            if cell.empty:
                continue
            paper, mean = PAPER[dataset][method], cell.mean(numeric_only=True)
            accuracies = ", ".join(f"{a:.1%}" for a in cell.sort_values("seed")["cluster_acc"])
            measured = cell["tc_y_z"].dropna() if "tc_y_z" in cell else pd.Series(dtype=float)
            tc_y_z = f"{measured.mean():.2f} ({len(measured)})" if len(measured) else "not measured"
            lines.append(f"| {dataset} | {method} | {len(cell)} | {paper[0]} / {mean.recon_bce:.1f} | {paper[1]} / {mean.mi_x_y:.2f} | "
                         f"{paper[2]} / {mean.mi_x_z:.1f} | {paper[3]} / {tc_y_z} | {mean.cluster_acc:.1%} ({accuracies}) |")
    return "\n".join(lines)


def clustering_gap(rows: pd.DataFrame) -> str:
    lines = ["| dataset | IMAE (seeds) | InfoVAE (seeds) | IMAE - InfoVAE, mean (points) | 95% interval (Welch t, points) | p |", "|---|---|---|---:|---|---:|"]
    for dataset in PAPER:
        imae = rows[(rows["dataset"] == dataset) & (rows["method"] == "imae")].sort_values("seed")["cluster_acc"]
        info = rows[(rows["dataset"] == dataset) & (rows["method"] == "info_vae")].sort_values("seed")["cluster_acc"]
        if len(imae) < 2 or len(info) < 2:
            continue
        test = stats.ttest_ind(imae, info, equal_var=False)
        low, high = test.confidence_interval(0.95)
        lines.append(f"| {dataset} | {', '.join(f'{a:.1%}' for a in imae)} | {', '.join(f'{a:.1%}' for a in info)} | "
                     f"{100 * (imae.mean() - info.mean()):+.1f} | {100 * low:+.1f} to {100 * high:+.1f} | {test.pvalue:.2f} |")
    return "\n".join(lines)


def last_evaluations(path: str) -> pd.DataFrame:
    """A rescored table as it is; a tidy table reduced to each trial's last evaluated epoch, named like one."""
    table = pd.read_csv(path)
    if "config/method" not in table.columns:
        return table
    last = table.dropna(subset=["cluster_acc"]).sort_values("epoch").groupby("trial_id").tail(1)
    return last.rename(columns={"config/method": "method", "config/seed": "seed", "config/dataset": "dataset"})


def main(paths: list[str]) -> None:
    rows = pd.concat([last_evaluations(path) for path in paths], ignore_index=True)
    rows = rows.drop_duplicates(subset=["dataset", "method", "seed"], keep="last")  # a rerun of a cell replaces it
    print(table_4a(rows))
    print()
    print(clustering_gap(rows))


if __name__ == "__main__":
    main(sys.argv[1:])
