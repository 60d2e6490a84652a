"""How much more than ten clusters lifts accuracy by itself: k-means with 10 and with 30 clusters on the same codes.

Why: with 30 conditions InfoAE's clusters are scored many-to-one, which rises with the number of clusters
whatever the model (the AAE gains 11 points from 16 to 30). k-means on E's codes of the evaluation images,
scored the same way (one-to-one for 10, many-to-one for 30), says how much of a gain the count alone gives.

    STUDY_DATA_ROOT=<data> python results/reproduction/infoae-categories-pilot/kmeans_control.py <experiment>...
"""

from __future__ import annotations

import sys
from pathlib import Path

from study.rescore import checkpointed_trials, restored_trials
from trainables.evaluation import encode_all
from trainables.metrics.clustering import cluster_accuracy, kmeans_clusters

COUNTS = (10, 30)


def main() -> None:
    print("| trial | epoch | conditions | C(E(x)) | " + " | ".join(f"k-means {k}" for k in COUNTS) + " |")
    print("|---|---:|---:|---:|" + "---:|" * len(COUNTS))
    for experiment in map(Path, sys.argv[1:]):
        dataset, checkpoints = checkpointed_trials(experiment)
        for folder, _, trial, epoch in restored_trials(dataset, checkpoints):
            encoded = encode_all(trial.method, trial.data.eval)
            labels = trial.data.eval.labels.cpu().numpy()
            code = encoded["code"].cpu().numpy()
            argmax = cluster_accuracy(labels, encoded["probs"].argmax(dim=1).cpu().numpy())
            kmeans = [cluster_accuracy(labels, kmeans_clusters(code, k, seed=0)) for k in COUNTS]
            print(f"| {folder.name} | {epoch} | {trial.method.categories} | {argmax:.3f} | " + " | ".join(f"{v:.3f}" for v in kmeans) + " |", flush=True)


if __name__ == "__main__":
    main()
