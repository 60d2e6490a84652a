"""How many steps, on which data and settings, before FactorVAE / RF-VAE disentangle here (issue 12).

A fair fixed-vs-adaptive test needs a budget where the best fixed gamma reaches a seed-mean final
MIG of 0.25 or more; this script trains candidate settings (single trials, no Ray, one thread
each, two at a time) and records MIG, discriminator accuracy, reconstruction and seconds per step
along training, one JSON line per evaluation, so the choice of the study's budget is a
measurement anyone can rerun:

    python benchmarks/disentanglement_budget.py CANDIDATES.json --out benchmarks/results/disentanglement_budget.jsonl

CANDIDATES.json: a list of {"label", "dataset": {...spec dataset...}, "config": {...trial config...}}.

Each row also says where each factor's information sits (`latent_usage`): per factor, its MIG and
the two latents with the most mutual information (normalised by the factor's entropy), and the
spread of each latent's mean code. A low MIG with one clear latent per factor and a runner-up close
behind is a factor split in two; many latents with a little of every factor is a code not yet
pruned to the factors (what round 4 found).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import time


def latent_usage(trial) -> dict:
    """Per scored factor: MIG, the top-two latents and their normalised MI; each latent's mean-code spread."""
    import numpy as np
    from sklearn.metrics import mutual_info_score

    from trainables.evaluation import encode_all, scored_factors
    from trainables.metrics.mig import discretize, mutual_information_matrix

    data = trial.data.eval
    codes = encode_all(trial.method, data)["code"].cpu().numpy()
    kept = scored_factors(data)
    factors = data.factors.cpu().numpy()[:, kept]
    entropy = np.array([mutual_info_score(factors[:, k], factors[:, k]) for k in range(factors.shape[1])])
    normalised = mutual_information_matrix(discretize(codes), factors) / entropy
    usage = {"latent_std": [round(float(v), 3) for v in codes.std(axis=0)]}
    for column, factor in enumerate(kept):
        order = np.argsort(normalised[:, column])[::-1]
        first, second = normalised[order[0], column], normalised[order[1], column]
        usage[data.factor_names[factor]] = {"mig": round(float(first - second), 4), "top_latents": [int(order[0]), int(order[1])],
                                            "top_mi": [round(float(first), 3), round(float(second), 3)]}
    return usage


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
            if metrics.get("mig", float("nan")) == metrics.get("mig", float("nan")):  # MIG scored: the data has factors
                row["latent_usage"] = latent_usage(trial)
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
