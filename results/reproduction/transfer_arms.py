"""Two arms' `infoae_transfer.py` (or `kmeans_control.py`) rows, paired by seed: does a change move purity, what the
images teach, E's code, or all of them?

Why: a pilot's clusters (pilot_arms.py) say whether a change helps, not through which part of the model;
`infoae_transfer.py` measures those parts per checkpoint (purity of the conditions, what the generated images
teach a fresh reader, their spread) and this compares two arms' tables by seed with scipy.stats.ttest_rel
(`pilot_arms.paired_difference`).

    python results/reproduction/transfer_arms.py --arm transfer-a.md --baseline transfer-b.md [more tables for either] \
        [--arm-match SUBSTRING] [--baseline-match SUBSTRING]

Each table is the markdown `infoae_transfer.py` or `infoae-categories-pilot/kmeans_control.py` prints (one row
per trial, the seed in the trial's name); several files may make one arm, and `--arm-match` / `--baseline-match`
keep only the rows whose trial name contains the substring (one file may hold several arms). Rates print in
points, `spread_ratio` and `cycle_error` as they are.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np

from pilot_arms import paired_difference  # the script beside this one

MEASURES = ("purity", "purity_many_to_one", "relabelled_acc", "spread_ratio", "transfer_acc", "agreement", "cluster_acc",
            "cycle_error", "C(E(x))", "k-means 10", "k-means 30")
RATIOS = ("spread_ratio", "cycle_error")


def transfer_rows(paths: list[Path], match: str = "") -> dict[int, dict[str, float]]:
    """Seed -> the row's measures, from the markdown tables in `paths`, rows whose trial name contains `match`
    (a seed met twice is refused: two arms' rows would be mixed up)."""
    rows: dict[int, dict[str, float]] = {}
    for path in paths:
        header: list[str] = []
        for line in path.read_text().splitlines():
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if cells[0] == "trial":
                header = cells
            elif header and match in cells[0] and (seed := re.search(r"seed=(\d+)", cells[0])):
                if int(seed.group(1)) in rows:
                    raise SystemExit(f"seed {seed.group(1)} twice in {', '.join(map(str, paths))}"
                                     f"{f' (rows matching {match!r})' if match else ''}: pick one arm's rows with --arm-match / --baseline-match")
                rows[int(seed.group(1))] = {name: float(value) for name, value in zip(header[1:], cells[1:])}
    if not rows:
        raise SystemExit(f"no infoae_transfer.py rows (a 'trial' header, then rows naming seed=N"
                         f"{f' and containing {match!r}' if match else ''}) in {', '.join(map(str, paths))}")
    return rows


def compare(arm: dict[int, dict[str, float]], baseline: dict[int, dict[str, float]]) -> list[dict]:
    """Per measure both arms report: means over the seeds both ran, the paired difference, its 95% interval and p."""
    seeds = sorted(set(arm) & set(baseline))
    if len(seeds) < 2:
        raise SystemExit(f"need at least two seeds in both arms to pair, got {seeds}")
    results = []
    for measure in MEASURES:
        if not all(measure in arm[s] and measure in baseline[s] for s in seeds):
            continue
        a = np.array([arm[s][measure] for s in seeds])
        b = np.array([baseline[s][measure] for s in seeds])
        difference, low, high, p = paired_difference(a, b)
        results.append({"measure": measure, "arm": a.mean(), "baseline": b.mean(), "difference": difference,
                        "low": low, "high": high, "p": p, "seeds": seeds})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arm", type=Path, nargs="+", required=True)
    parser.add_argument("--baseline", type=Path, nargs="+", required=True)
    parser.add_argument("--arm-match", default="", help="only the arm's rows whose trial name contains this")
    parser.add_argument("--baseline-match", default="", help="only the baseline's rows whose trial name contains this")
    args = parser.parse_args()
    results = compare(transfer_rows(args.arm, args.arm_match), transfer_rows(args.baseline, args.baseline_match))
    print(f"paired by seed {results[0]['seeds']} (scipy.stats.ttest_rel); rates in points\n")
    print("| measure | arm | baseline | arm minus baseline | 95% interval | p |")
    print("|---|---:|---:|---:|---|---:|")
    for r in results:
        scale, form = (1, "{:.3f}") if r["measure"] in RATIOS else (100, "{:.1f}")
        cells = [form.format(r[k] * scale) for k in ("arm", "baseline")]
        signed = form.replace("{:", "{:+")
        print(f"| {r['measure']} | {cells[0]} | {cells[1]} | {signed.format(r['difference'] * scale)} | "
              f"{signed.format(r['low'] * scale)} to {signed.format(r['high'] * scale)} | {r['p']:.2g} |")


if __name__ == "__main__":
    main()
