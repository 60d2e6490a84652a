"""Clustering quality of a code against class labels.

- accuracy: with no more clusters than classes, the best one-to-one matching of clusters to
  classes (Hungarian algorithm on the contingency table), the unsupervised clustering accuracy
  of the source papers; with more clusters than classes (the AAE paper's 16 and 30), each
  cluster takes its majority class (many-to-one);
- `confident_example_accuracy`: the AAE paper's rule (Makhzani et al. 2016, section 6): each
  cluster takes the label of the example it is most confident about in a labelled fit set, and
  the score set is scored with those labels (a few labels, no matching);
- NMI and ARI from scikit-learn;
- `kmeans_clusters`: k-means on a continuous code, for methods without a categorical variable.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
from sklearn.metrics.cluster import contingency_matrix

from .validation import MetricInputError, as_codes, as_labels


def hungarian_accuracy(labels, clusters) -> float:
    """Share of points whose cluster maps to their class under the best one-to-one matching."""
    labels = as_labels(labels, len(np.asarray(labels)), "labels")
    clusters = as_labels(clusters, labels.shape[0], "clusters")
    if labels.shape[0] == 0:
        raise MetricInputError("clustering accuracy needs at least one point")
    table = contingency_matrix(labels, clusters)
    rows, cols = linear_sum_assignment(table, maximize=True)
    return float(table[rows, cols].sum() / labels.shape[0])


def many_to_one_accuracy(labels, clusters) -> float:
    """Share of points whose cluster's majority class is their class."""
    labels = as_labels(labels, len(np.asarray(labels)), "labels")
    clusters = as_labels(clusters, labels.shape[0], "clusters")
    if labels.shape[0] == 0:
        raise MetricInputError("clustering accuracy needs at least one point")
    return float(contingency_matrix(labels, clusters).max(axis=0).sum() / labels.shape[0])


def cluster_accuracy(labels, clusters) -> float:
    """Hungarian one-to-one accuracy, or many-to-one when there are more clusters than classes."""
    if np.unique(clusters).size > np.unique(labels).size:
        return many_to_one_accuracy(labels, clusters)
    return hungarian_accuracy(labels, clusters)


def confident_example_accuracy(fit_labels, fit_probs, score_labels, score_probs) -> float:
    """Each cluster's label is that of the fit-set example with the highest probability of the cluster;
    the score set's points are assigned to their most probable cluster and scored with those labels.
    Clusters no fit example prefers still get a label (their most confident example's)."""
    fit_probs, score_probs = as_codes(fit_probs, "fit probabilities", min_points=1), as_codes(score_probs, "score probabilities", min_points=1)
    fit_labels = as_labels(fit_labels, fit_probs.shape[0], "fit labels")
    score_labels = as_labels(score_labels, score_probs.shape[0], "score labels")
    if fit_probs.shape[1] != score_probs.shape[1]:
        raise MetricInputError(f"fit and score probabilities have {fit_probs.shape[1]} and {score_probs.shape[1]} clusters")
    cluster_label = fit_labels[fit_probs.argmax(axis=0)]  # per cluster: the label of its most confident fit example
    return float((cluster_label[score_probs.argmax(axis=1)] == score_labels).mean())


def kmeans_clusters(codes, n_clusters: int, seed: int = 0, n_init: int = 10) -> np.ndarray:
    """k-means cluster index per point (scikit-learn, k-means++ init, best of n_init)."""
    codes = as_codes(codes, min_points=n_clusters)
    return KMeans(n_clusters=n_clusters, n_init=n_init, random_state=seed).fit_predict(codes)


def clustering_scores(labels, clusters) -> dict[str, float]:
    """cluster_acc, cluster_nmi, cluster_ari of a cluster assignment against labels."""
    labels = np.asarray(labels)
    return {
        "cluster_acc": cluster_accuracy(labels, clusters),
        "cluster_nmi": float(normalized_mutual_info_score(labels, clusters)),
        "cluster_ari": float(adjusted_rand_score(labels, clusters)),
    }
