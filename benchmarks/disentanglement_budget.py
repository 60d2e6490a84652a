"""How many steps, on which data and settings, before FactorVAE / RF-VAE disentangle here (issue 12).

A fair fixed-vs-adaptive test needs a budget where the best fixed gamma reaches a seed-mean final
MIG of 0.25 or more; this script trains candidate settings (single trials, no Ray, one thread
each, two at a time) and records MIG, discriminator accuracy, reconstruction and seconds per step
along training, one JSON line per evaluation, so the choice of the study's budget is a
measurement anyone can rerun:

    python benchmarks/disentanglement_budget.py CANDIDATES.json --out benchmarks/results/disentanglement_budget.jsonl

CANDIDATES.json: a list of {"label", "dataset": {...spec dataset...}, "config": {...trial config...}}.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time


def run(candidate: dict) -> list[dict]:
    import torch

    from trainables.datasets import load_dataset
    from trainables.trial import Trial

    torch.set_num_threads(1)
    dataset = candidate["dataset"]
    splits = load_dataset(dataset["name"], **dataset.get("options", {}))
    trial = Trial(dict(candidate["config"]), splits)
    rows = []
    started = time.perf_counter()
    while not trial.finished:
        metrics = trial.train_epoch()
        if metrics.get("recon_bce") == metrics.get("recon_bce"):  # evaluated (not NaN)
            row = {"label": candidate["label"], "epoch": trial.epoch, "steps": trial.epoch * trial.steps_per_epoch,
                   "s_per_step": (time.perf_counter() - started) / (trial.epoch * trial.steps_per_epoch)}
            keys = ("mig", "factor_vae_score", "dci_disentanglement", "sap", "recon_bce", "tc", "mi_x_z", "cluster_acc", "cluster_nmi", "probe_acc", "mi_x_y")
            row.update({k: metrics[k] for k in keys if k in metrics and metrics[k] == metrics[k]})
            row.update({k: v for k, v in metrics.items() if k.startswith(("disc_acc/", "weight/", "controller/", "loss/"))})
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("candidates")
    parser.add_argument("--out", required=True)
    parser.add_argument("--processes", type=int, default=2)
    args = parser.parse_args()
    with open(args.candidates) as handle:
        candidates = json.load(handle)
    with multiprocessing.get_context("spawn").Pool(args.processes) as pool, open(args.out, "a") as out:
        for rows in pool.imap_unordered(run, candidates):
            for row in rows:
                out.write(json.dumps(row) + "\n")
            out.flush()


if __name__ == "__main__":
    main()
