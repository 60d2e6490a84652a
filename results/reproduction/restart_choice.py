"""Which of several restarts to keep, by a label-free training loss at one epoch (k-means' n_init, IIC's sub-heads).

Reads the tidy tables of a first stage (`study run` output: one trial per seed, same setting), ranks the seeds by
`--criterion` (a reported training loss, e.g. loss/cluster_invariance, lower is better unless `--mode max`) at
`--epoch`, and prints the ranking with the chosen seeds (`--keep`). The accuracy columns print beside it for the
record, never for the choice; the rank correlation between criterion and `--check` metric (scipy.stats.spearmanr,
with its p-value) says whether the criterion tracks the clusters' quality in these seeds:

    python results/reproduction/restart_choice.py results/reproduction/infoae-restarts/tidy-stage1.csv \
        --epoch 2 --criterion loss/cluster_invariance --keep 2
"""

from __future__ import annotations

import argparse

import pandas as pd
from scipy import stats


def ranking(frame: pd.DataFrame, epoch: int, criterion: str, mode: str, check: str) -> pd.DataFrame:
    """One row per seed at `epoch`: its criterion and check metric, best criterion first."""
    if criterion not in frame.columns:
        raise SystemExit(f"no column {criterion!r} in the tables; losses there: "
                         f"{', '.join(c for c in frame.columns if c.startswith('loss/'))}")
    rows = frame[frame["epoch"] == epoch]
    if rows.empty:
        raise SystemExit(f"no rows at epoch {epoch}; epochs there: {sorted(frame['epoch'].unique())}")
    if rows["config/seed"].duplicated().any():
        raise SystemExit("a seed appears twice at this epoch: pass the tables of one setting only")
    table = rows[["config/seed", criterion, check]].rename(columns={"config/seed": "seed"})
    return table.sort_values(criterion, ascending=(mode == "min")).reset_index(drop=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tidy", nargs="+")
    parser.add_argument("--epoch", type=int, required=True)
    parser.add_argument("--criterion", required=True, help="a label-free training loss reported per epoch")
    parser.add_argument("--mode", choices=("min", "max"), default="min")
    parser.add_argument("--keep", type=int, default=1, help="how many seeds go on")
    parser.add_argument("--check", default="cluster_acc", help="printed beside, and correlated with, the criterion")
    args = parser.parse_args()
    frame = pd.concat([pd.read_csv(path) for path in args.tidy], ignore_index=True)
    table = ranking(frame, args.epoch, args.criterion, args.mode, args.check)
    print(f"seeds ranked by {args.criterion} at epoch {args.epoch} ({args.mode} first); {args.check} is not used for the choice\n")
    print("| rank | seed | " + args.criterion + " | " + args.check + " |\n|---:|---:|---:|---:|")
    for rank, row in table.iterrows():
        print(f"| {rank + 1} | {int(row['seed'])} | {row[args.criterion]:.4f} | {row[args.check]:.4f} |")
    rho, p = stats.spearmanr(table[args.criterion], table[args.check])
    print(f"\nSpearman rank correlation of {args.criterion} with {args.check}: {rho:+.2f} (p = {p:.2g}, {len(table)} seeds)")
    print(f"chosen to go on: seeds {[int(s) for s in table['seed'][:args.keep]]}")


if __name__ == "__main__":
    main()
