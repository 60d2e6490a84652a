"""A pilot's arms against its baseline arm, by seed, at one epoch: is a change an effect or seed noise?

Reads one or more tidy tables (`study run` output) of a pilot whose entries differ only in options or
weights, weighting mode or batch size, labels each option variant (`analysis.variants`) and each weight, mode or batch size that differs, and for
every arm other than the baseline prints the seeds' values, the mean difference from the baseline over the seeds both ran, its 95% interval
and p-value (paired t-test, scipy.stats.ttest_rel, since a seed fixes the initialisation and the
batch order), and Welch's test on all seeds of each arm:

    python results/reproduction/pilot_arms.py results/reproduction/aae-input-noise-pilot/tidy.csv \
        --epoch 4 --baseline "input_noise=0.0,gen_lr=None"

`--baseline` names the baseline arm by the option or weight values in its label (the labels print first).
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from scipy import stats

from analysis.variants import label_option_variants

WEIGHT_PREFIX = "config/weights/"


def label_weight_variants(frame: pd.DataFrame) -> pd.DataFrame:
    """Arms that differ in a loss weight (a weight pilot) get it in their label too: `infoae{gamma=2}`."""
    columns = sorted(c for c in frame.columns if c.startswith(WEIGHT_PREFIX) and frame[c].nunique() > 1)
    if not columns:
        return frame
    frame = frame.copy()
    shown = frame[columns].apply(lambda row: ",".join(f"{c.removeprefix(WEIGHT_PREFIX)}={row[c]:g}" for c in columns), axis=1)
    frame["config/method"] = frame["config/method"] + "{" + shown + "}"
    return frame


def label_weighting_variants(frame: pd.DataFrame) -> pd.DataFrame:
    """Arms that differ in how the weights are set (fixed against adaptive) get the mode in their label: `infoae<adaptive>`."""
    if "config/weighting" not in frame or frame["config/weighting"].nunique() < 2:
        return frame
    frame = frame.copy()
    frame["config/method"] = frame["config/method"] + "<" + frame["config/weighting"] + ">"
    return frame


def label_batch_variants(frame: pd.DataFrame) -> pd.DataFrame:
    """Arms that differ in the spec's batch size get it in their label: `aae[batch=64]`."""
    if "config/batch_size" not in frame or frame["config/batch_size"].nunique() < 2:
        return frame
    frame = frame.copy()
    frame["config/method"] = frame["config/method"] + "[batch=" + frame["config/batch_size"].astype(int).astype(str) + "]"
    return frame


def arm_values(tables: list[str], metric: str, epoch: int) -> pd.DataFrame:
    """One row per (arm, seed): the metric at `epoch`; a later table's row replaces an earlier one's."""
    tidy = pd.concat([pd.read_csv(path) for path in tables], ignore_index=True)
    frame = label_batch_variants(label_weighting_variants(label_weight_variants(label_option_variants(tidy))))
    rows = frame[(frame["epoch"] == epoch) & frame[metric].notna()]
    rows = rows.rename(columns={"config/method": "arm", "config/seed": "seed"})[["arm", "seed", metric]]
    return rows.drop_duplicates(subset=["arm", "seed"], keep="last").sort_values(["arm", "seed"])


def paired_difference(arm, baseline) -> tuple[float, float, float, float]:
    """Mean of arm minus baseline (paired by seed), its 95% interval and p (scipy.stats.ttest_rel). When every
    seed differs by the same amount t is undefined: the interval is that point, p is 1 for no difference, else 0."""
    differences = np.asarray(arm, dtype=float) - np.asarray(baseline, dtype=float)
    mean = float(differences.mean())
    if np.ptp(differences) == 0:
        return mean, mean, mean, 1.0 if mean == 0 else 0.0
    test = stats.ttest_rel(arm, baseline)
    low, high = test.confidence_interval(0.95)
    return mean, float(low), float(high), float(test.pvalue)


def compare(values: pd.DataFrame, metric: str, baseline: str) -> str:
    arms = values["arm"].unique().tolist()
    matches = [arm for arm in arms if baseline in arm]
    if len(matches) != 1:
        raise SystemExit(f"--baseline {baseline!r} must name exactly one arm; arms: {arms}")
    base = values[values["arm"] == matches[0]].set_index("seed")[metric]
    # a share (accuracy) differs in percentage points; anything else (nats) in its own units
    scale, unit = (100, "points") if values[metric].between(0, 1).all() else (1, f"{metric} units")
    lines = [f"baseline {matches[0]}: {', '.join(f'{v:.3f}' for v in base)} (mean {base.mean():.3f}, seeds {list(base.index)})", "",
             f"| arm | seeds | values | mean | minus baseline, paired ({unit}) | 95% interval | p (paired t) | p (Welch) |",
             "|---|---|---|---:|---:|---|---:|---:|"]
    for arm in arms:
        if arm == matches[0]:
            continue
        own = values[values["arm"] == arm].set_index("seed")[metric]
        shared = own.index.intersection(base.index)
        paired = f"n/a (seeds shared: {len(shared)})"
        interval = p_paired = "n/a"
        if len(shared) >= 2:
            mean, low, high, p = paired_difference(own[shared].to_numpy(), base[shared].to_numpy())
            paired = f"{scale * mean:+.1f}"
            interval, p_paired = f"{scale * low:+.1f} to {scale * high:+.1f}", f"{p:.2g}"
        welch = stats.ttest_ind(own, base, equal_var=False).pvalue if len(own) >= 2 and len(base) >= 2 else float("nan")
        lines.append(f"| {arm} | {list(own.index)} | {', '.join(f'{v:.3f}' for v in own)} | {own.mean():.3f} | {paired} | "
                     f"{interval} | {p_paired} | {welch:.2g} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tables", nargs="+", help="tidy.csv files of the pilot")
    parser.add_argument("--metric", default="cluster_acc")
    parser.add_argument("--epoch", type=int, required=True, help="the epoch compared (an evaluated one)")
    parser.add_argument("--baseline", required=True, help="text that appears in the baseline arm's label only")
    args = parser.parse_args()
    values = arm_values(args.tables, args.metric, args.epoch)
    if values.empty:
        raise SystemExit(f"no {args.metric} at epoch {args.epoch} in {args.tables}")
    print(compare(values, args.metric, args.baseline))


if __name__ == "__main__":
    main()
