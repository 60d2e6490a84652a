"""results/reproduction/cluster_anatomy.py: the many-to-one losses, grouped by which digits a cluster
merges, add up to exactly what many-to-one accuracy loses."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np

from trainables.metrics.clustering import many_to_one_accuracy

SCRIPT = Path(__file__).resolve().parents[1] / "results" / "reproduction" / "cluster_anatomy.py"


def test_merges_account_for_every_lost_image(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    anatomy = importlib.import_module("cluster_anatomy").anatomy
    # cluster 0: six 4s and two 9s; cluster 1: five 9s and one 4; cluster 2: four 7s and two 1s (digit 1 owns no cluster)
    labels = np.array([4] * 6 + [9] * 2 + [9] * 5 + [4] + [7] * 4 + [1] * 2)
    clusters = np.array([0] * 8 + [1] * 6 + [2] * 4 + [2] * 2)
    per_cluster, merged = anatomy(labels, clusters)
    assert per_cluster["digit"].tolist() == [4, 9, 7]
    assert np.allclose(per_cluster["purity"], [6 / 8, 5 / 6, 4 / 6])
    losses = {(row.cluster_digit, row.true_digit): row.points for row in merged.itertuples()}
    n = len(labels)
    assert losses == {(4, 9): 100 * 2 / n, (9, 4): 100 * 1 / n, (7, 1): 100 * 2 / n}
    assert np.isclose(merged["points"].sum(), 100 * (1 - many_to_one_accuracy(labels, clusters)))


def test_explained_share_is_eta_squared(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    explained_share = importlib.import_module("cluster_anatomy").explained_share
    values = np.array([1.0, 1.0, 3.0, 3.0])
    assert explained_share(values, np.array([0, 0, 1, 1])) == 1.0  # the groups hold all the variance
    assert explained_share(values, np.array([0, 1, 0, 1])) == 0.0  # none of it


def test_a_perfect_clustering_loses_nothing(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    anatomy = importlib.import_module("cluster_anatomy").anatomy
    per_cluster, merged = anatomy(np.array([3, 3, 5, 5]), np.array([0, 0, 1, 1]))
    assert merged.empty and per_cluster["purity"].tolist() == [1.0, 1.0]
