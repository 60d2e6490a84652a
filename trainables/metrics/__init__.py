"""Metric families: plain arrays in, numbers out, no Ray imports. One file per family."""

from .beta_vae_score import beta_vae_score
from .clustering import (
    cluster_accuracy, clustering_scores, confident_example_accuracy, hungarian_accuracy, kmeans_clusters, many_to_one_accuracy,
)
from .dci import completeness, dci, disentanglement, importance_matrix
from .factor_vae_score import factor_vae_score
from .information import gaussian_information, hybrid_total_correlation, mi_x_y, mi_x_z, total_correlation
from .mig import mig
from .probe import probe_accuracy
from .sap import sap
from .validation import MetricInputError

__all__ = [
    "MetricInputError", "beta_vae_score", "cluster_accuracy", "clustering_scores", "completeness", "confident_example_accuracy", "dci",
    "disentanglement", "factor_vae_score", "gaussian_information", "hungarian_accuracy", "hybrid_total_correlation", "importance_matrix", "kmeans_clusters",
    "many_to_one_accuracy", "mi_x_y", "mi_x_z", "mig", "probe_accuracy", "sap", "total_correlation",
]
