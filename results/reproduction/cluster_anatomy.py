"""Where a clustering model's errors sit: per trial checkpoint, which digits share clusters.

Why: the AAE's code holds the digit (a linear probe reads 93% of it) while its argmax clusters score
65-81%. Many-to-one accuracy loses exactly the images outside their cluster's majority class, so
grouping those losses by (cluster's class, image's class) says which digits the cluster head merges,
and how many points each merge costs. Digits that own no cluster lose all their images. How much of
the ink per image (a style) the clusters explain, against the digits, says whether the head cuts by style.
Where the code holds more than the cluster posteriors (the AAE's style z after y), a linear probe on that
rest alone says how much of the digit the decoder can read without the cluster head.
The clusters' sizes bound the accuracy on their own: a cluster counts at most its size for one digit, and a
digit at most its own count, so clusters of sizes s_c allow at most the best labelling's sum over digits of
min(count, sizes labelled with it) (many-to-one; one-to-one, the best matching's sum of min(size, count)).
A categorical prior that makes K clusters equal imposes that bound (87.0% for 16 equal clusters of MNIST's
test set); measured against it, a shortfall is either the sizes or impure clusters.

Usage (an experiment folder of `study run`, trials with checkpoints; scored on the spec's evaluation
split, as `study rescore` does):

    python results/reproduction/cluster_anatomy.py <experiment> [--match SUBSTRING] [--top 8]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.optimize import Bounds, LinearConstraint, linear_sum_assignment, milp

from study.rescore import checkpointed_trials, restored_trials
from trainables.evaluation import METRIC_SEED, encode_all, fit_score_split
from trainables.metrics import probe_accuracy
from trainables.metrics.clustering import cluster_accuracy, kmeans_clusters


def anatomy(labels: np.ndarray, clusters: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per cluster: size, majority class, purity; and the many-to-one losses by (cluster class, true class)."""
    table = pd.crosstab(pd.Series(clusters, name="cluster"), pd.Series(labels, name="digit"))
    majority = table.idxmax(axis=1)
    per_cluster = pd.DataFrame({"size": table.sum(axis=1), "digit": majority, "purity": table.max(axis=1) / table.sum(axis=1)})
    losses = []
    for cluster, row in table.iterrows():
        for digit, count in row.items():
            if digit != majority[cluster] and count:
                losses.append({"cluster_digit": majority[cluster], "true_digit": digit, "points": 100 * count / len(labels)})
    merged = pd.DataFrame(losses, columns=["cluster_digit", "true_digit", "points"]).groupby(["cluster_digit", "true_digit"], as_index=False)["points"].sum()
    return per_cluster, merged.sort_values("points", ascending=False)


def size_ceiling(sizes: np.ndarray, counts: np.ndarray) -> float:
    """The highest clustering accuracy clusters of these sizes allow for classes of these counts, scored as
    `cluster_accuracy` scores them: many-to-one when more clusters are used than there are classes, else one-to-one.

    Why: a prior that fixes the clusters' sizes caps the accuracy whatever the encoder learns. One-to-one, cluster c
    matched to class d counts at most min(size_c, count_d): the best matching (scipy's linear_sum_assignment) bounds
    it. Many-to-one, each cluster takes one label and a label's images counted right are at most min(its count, the
    sizes of its clusters); the best labelling is a small integer programme (binary x[c, d]: cluster c labelled d;
    t_d <= count_d, t_d <= sum_c size_c x[c, d]; maximise sum t_d), solved exactly by scipy's HiGHS.
    """
    sizes, counts = np.asarray(sizes, dtype=float), np.asarray(counts, dtype=float)
    if (sizes > 0).sum() <= (counts > 0).sum():
        overlap = np.minimum.outer(sizes, counts)
        rows, cols = linear_sum_assignment(overlap, maximize=True)
        return float(overlap[rows, cols].sum() / counts.sum())
    k, d = len(sizes), len(counts)
    objective = np.concatenate([np.zeros(k * d), -np.ones(d)])  # milp minimises
    one_label = np.zeros((k, k * d + d))
    for c in range(k):
        one_label[c, c * d:(c + 1) * d] = 1
    capacity = np.zeros((d, k * d + d))
    for digit in range(d):
        capacity[digit, digit:k * d:d] = -sizes
        capacity[digit, k * d + digit] = 1
    result = milp(objective, integrality=np.concatenate([np.ones(k * d), np.zeros(d)]),
                  bounds=Bounds(np.zeros(k * d + d), np.concatenate([np.ones(k * d), counts])),
                  constraints=[LinearConstraint(one_label, 1, 1), LinearConstraint(capacity, -np.inf, 0)])
    if not result.success:
        raise RuntimeError(f"size_ceiling: the labelling programme failed: {result.message}")
    return float(-result.fun / counts.sum())


def explained_share(values: np.ndarray, groups: np.ndarray) -> float:
    """Share of the variance of `values` that the group means explain (eta squared, between / total)."""
    frame = pd.DataFrame({"value": values, "group": groups})
    means = frame.groupby("group")["value"].transform("mean")
    return float(((means - values.mean()) ** 2).sum() / ((values - values.mean()) ** 2).sum())


def style_measures(images: np.ndarray) -> dict[str, np.ndarray]:
    """Per image: ink (mean intensity), slant (ink-weighted horizontal shear about the centre of mass), width and
    height (ink-weighted spread in pixels). Why: when the head gives one digit two clusters, these say whether the
    split is by a simple style (a slant or stroke width the invariance term could be asked to ignore) or by shape."""
    images = images.reshape(len(images), images.shape[-2], images.shape[-1]).astype(float)
    rows, cols = np.mgrid[0:images.shape[1], 0:images.shape[2]]
    mass = images.sum(axis=(1, 2)) + 1e-12
    dx = cols[None] - ((images * cols).sum(axis=(1, 2)) / mass)[:, None, None]
    dy = rows[None] - ((images * rows).sum(axis=(1, 2)) / mass)[:, None, None]
    spread_y = (images * dy * dy).sum(axis=(1, 2))
    return {"ink": images.mean(axis=(1, 2)), "slant": (images * dx * dy).sum(axis=(1, 2)) / (spread_y + 1e-12),
            "width": np.sqrt((images * dx * dx).sum(axis=(1, 2)) / mass), "height": np.sqrt(spread_y / mass)}


def split_digits(labels: np.ndarray, clusters: np.ndarray, per_cluster: pd.DataFrame,
                 measures: dict[str, np.ndarray]) -> dict[int, dict[str, float]]:
    """For each digit that is the majority of two or more clusters: the share of the variance of each style measure,
    among that digit's images in those clusters, that the clusters explain."""
    shares = {}
    for digit, owned in per_cluster.groupby("digit").groups.items():
        if len(owned) < 2:
            continue
        inside = (labels == digit) & np.isin(clusters, list(owned))
        shares[int(digit)] = {name: explained_share(values[inside], clusters[inside]) for name, values in measures.items()}
    return shares


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiment", type=Path)
    parser.add_argument("--match", default="", help="only trial folders whose name contains this")
    parser.add_argument("--top", type=int, default=8, help="how many merges to list")
    args = parser.parse_args()
    dataset, checkpoints = checkpointed_trials(args.experiment, match=args.match)
    for folder, _, trial, epoch in restored_trials(dataset, checkpoints):
        with torch.no_grad():
            encoded = encode_all(trial.method, trial.data.eval)
        labels = trial.data.eval.labels.cpu().numpy()
        probs = encoded["probs"].cpu().numpy()
        clusters = probs.argmax(axis=1)
        code = encoded["code"].double().cpu().numpy()
        per_cluster, merged = anatomy(labels, clusters)
        owned = set(per_cluster["digit"])
        k = probs.shape[1]
        kmeans = kmeans_clusters(code, k, seed=0)
        print(f"\n## {folder.name} (epoch {epoch})\n")
        print(f"- argmax clusters: accuracy {cluster_accuracy(labels, clusters):.3f}, {len(per_cluster)} of {k} clusters used, "
              f"median max probability {np.median(probs.max(axis=1)):.3f}")
        sizes = np.bincount(clusters, minlength=k)
        counts = np.bincount(labels)
        print(f"- cluster sizes: {100 * sizes.min() / len(labels):.1f}% to {100 * sizes.max() / len(labels):.1f}% of the images "
              f"(equal: {100 / k:.1f}%); the best accuracy clusters of these sizes allow: {size_ceiling(sizes, counts):.3f} "
              f"(of {k} equal ones: {size_ceiling(np.full(k, len(labels) / k), counts):.3f})")
        print(f"- k-means ({k} clusters) on the same code (y, z): accuracy {cluster_accuracy(labels, kmeans):.3f}")
        print(f"- digits that own no cluster: {sorted(set(np.unique(labels).tolist()) - owned) or 'none'}; "
              f"clusters per digit: {per_cluster['digit'].value_counts().sort_index().to_dict()}")
        rest = code[:, k:]
        if rest.shape[1] and np.allclose(code[:, :k], probs, atol=1e-6):  # the code is (y, rest): the AAE's (y, z)
            fit, score = fit_score_split(len(code))
            print(f"- linear probe on the code beyond the clusters ({rest.shape[1]} dimensions, the style z) alone: "
                  f"{probe_accuracy(rest[fit], labels[fit], rest[score], labels[score], seed=METRIC_SEED):.3f}; "
                  f"on (y, z): {probe_accuracy(code[fit], labels[fit], code[score], labels[score], seed=METRIC_SEED):.3f}")
        ink = trial.data.eval.images.flatten(1).mean(dim=1).cpu().numpy()
        print(f"- ink (mean pixel intensity, a style: stroke width and size): variance explained by the clusters "
              f"{explained_share(ink, clusters):.2f}, by the digits {explained_share(ink, labels):.2f}")
        splits = split_digits(labels, clusters, per_cluster, style_measures(trial.data.eval.images.cpu().numpy()))
        print("- digits split over clusters, the share of each style's variance within the digit its clusters explain: "
              + ("; ".join(f"{digit}: " + ", ".join(f"{name} {share:.2f}" for name, share in shares.items())
                           for digit, shares in splits.items()) or "none"))
        print(f"- lost to merges: {merged['points'].sum():.1f} points; the largest (cluster's digit <- true digit, points):")
        for row in merged.head(args.top).itertuples():
            print(f"  - {row.cluster_digit} <- {row.true_digit}: {row.points:.1f}")


if __name__ == "__main__":
    main()
