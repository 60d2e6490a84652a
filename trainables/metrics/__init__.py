"""Metric families: plain arrays in, numbers out, no Ray imports. One file per family."""

from .clustering import clustering_scores, hungarian_accuracy, kmeans_clusters
from .mig import mig
from .validation import MetricInputError

__all__ = ["MetricInputError", "clustering_scores", "hungarian_accuracy", "kmeans_clusters", "mig"]
