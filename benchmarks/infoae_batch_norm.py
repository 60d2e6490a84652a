"""Is InfoAE's poor clustering of real MNIST images a batch-norm artefact? (issue 13)

InfoAE's encoder E has batch norm and, in training, sees real and generated images in separate
batches (each normalised with its own statistics), while evaluation normalises real images with
running statistics of the mixture; its classifier C is trained only on E(generated). If that
mismatch caused the low clustering accuracy of C(E(x)), re-estimating E's batch-norm statistics
on real training images should raise it on the same trained model. This script trains InfoAE at
the paper's weights (one thread) and, after every epoch, scores clustering on the test set
(a) as trained and (b) on a copy whose E batch-norm statistics were re-estimated on real images:

    python benchmarks/infoae_batch_norm.py --epochs 3 --out benchmarks/results/infoae_batch_norm.jsonl

(--batch-norm joint trains with one pass over real and generated images instead.)
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import time

import torch
from torch import nn

from trainables.datasets import load_dataset
from trainables.evaluation import evaluate
from trainables.trial import Trial


@torch.no_grad()
def reestimate_batch_norm(module: nn.Module, images: torch.Tensor, batch_size: int = 500) -> None:
    """Replace every batch norm's running statistics in `module` by their average over `images` (train-mode passes)."""
    norms = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average over the passes below
    was_training = module.training
    module.train()
    for chunk in images.split(batch_size):
        module(chunk)
    module.train(was_training)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-norm", default="separate", choices=("separate", "joint"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--critic-on-codes", action="store_true", help="the self critic S judges codes without the image")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)
    splits = load_dataset("mnist", root=os.environ.get("STUDY_DATA_ROOT"))
    config = {"method": "infoae", "weighting": "fixed", "weights": {"alpha": 1.0, "beta": 1.0, "gamma": 0.4}, "seed": args.seed,
              "epochs": args.epochs, "batch_size": 64, "eval_size": 10000, "eval_every": 1,
              "options": {"latent_dim": 32, "categories": 10, "lr": 2e-4, "batch_norm": args.batch_norm,
                          "critic_sees_image": not args.critic_on_codes}}
    trial = Trial(config, splits)
    started = time.perf_counter()
    with open(args.out, "a") as out:
        while not trial.finished:
            trained = trial.train_epoch()
            model = copy.deepcopy(trial.method)
            reestimate_batch_norm(model.encoder, trial.data.train_images[:10000])
            reestimated = evaluate(model, trial.data.eval)
            row = {"batch_norm": args.batch_norm, "critic_sees_image": not args.critic_on_codes, "seed": args.seed, "epoch": trial.epoch, "seconds": round(time.perf_counter() - started, 1)}
            for key in ("cluster_acc", "cluster_nmi", "probe_acc", "mi_x_y"):
                row[key] = trained[key]
                row[f"{key} (E statistics re-estimated on real images)"] = reestimated[key]
            row.update({k: trained[k] for k in ("disc_acc/image", "disc_acc/pair", "loss/class_encoded", "loss/class_generated") if k in trained})
            print(json.dumps(row), flush=True)
            out.write(json.dumps(row) + "\n")
            out.flush()


if __name__ == "__main__":
    main()
