"""results/reproduction/cluster_anatomy.py: the many-to-one losses, grouped by which digits a cluster
merges, add up to exactly what many-to-one accuracy loses."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np

from trainables.metrics.clustering import cluster_accuracy, many_to_one_accuracy

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


def test_sixteen_equal_clusters_of_ten_equal_classes_allow_85_percent(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    size_ceiling = importlib.import_module("cluster_anatomy").size_ceiling
    # six classes get two clusters (all 1000 images), four get one (625 of 1000): 8500 of 10000
    assert np.isclose(size_ceiling(np.full(16, 625.0), np.full(10, 1000.0)), 0.85)
    # sizes that fit the classes lose nothing; ten clusters for ten classes of equal count too
    assert np.isclose(size_ceiling(np.array([500.0, 500, 1000, 400, 600]), np.array([1000.0, 1000, 1000])), 1.0)
    assert np.isclose(size_ceiling(np.full(10, 1000.0), np.full(10, 1000.0)), 1.0)


def test_no_clustering_beats_the_ceiling_of_its_own_sizes(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    size_ceiling = importlib.import_module("cluster_anatomy").size_ceiling
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, size=2000)
    for noise in (0.0, 0.2, 0.6):
        # a clustering that follows the labels, each class cut into pieces, with a share of images moved at random
        clusters = labels * 2 + rng.integers(0, 2, size=labels.size)
        moved = rng.random(labels.size) < noise
        clusters[moved] = rng.integers(0, 20, size=moved.sum())
        ceiling = size_ceiling(np.bincount(clusters, minlength=20), np.bincount(labels))
        assert many_to_one_accuracy(labels, clusters) <= ceiling + 1e-12
    # unequal sizes that match no class: one cluster holds everything, so only the largest class counts
    assert np.isclose(size_ceiling(np.array([2000.0]), np.bincount(labels)), np.bincount(labels).max() / labels.size)


def test_as_many_clusters_as_classes_are_bounded_one_to_one(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    size_ceiling = importlib.import_module("cluster_anatomy").size_ceiling
    counts = np.array([1000.0, 1000, 1000])
    # one-to-one: the 1500-image cluster counts 1000 at most, the 500-image one 500: 2500 of 3000
    # (many-to-one would let the two small clusters share a label and reach 1.0)
    assert np.isclose(size_ceiling(np.array([1500.0, 1000, 500]), counts), 2500 / 3000)
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 4, size=1000)
    for noise in (0.0, 0.3):
        clusters = np.where(rng.random(labels.size) < noise, rng.integers(0, 4, size=labels.size), labels)
        ceiling = size_ceiling(np.bincount(clusters, minlength=4), np.bincount(labels))
        assert cluster_accuracy(labels, clusters) <= ceiling + 1e-12


def test_style_measures_and_split_digits_tell_a_split_by_slant_from_one_by_shape(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    module = importlib.import_module("cluster_anatomy")
    upright, leaning = np.zeros((9, 9)), np.zeros((9, 9))
    upright[1:8, 4] = 1  # a vertical stroke
    for row in range(1, 8):
        leaning[row, 8 - row] = 1  # the same stroke leaning right: x grows as y falls
    measures = module.style_measures(np.stack([upright, leaning]))
    assert np.isclose(measures["slant"][0], 0) and measures["slant"][1] < -0.5  # rows grow downwards
    assert np.isclose(measures["width"][0], 0) and measures["width"][1] > 1
    assert np.isclose(measures["ink"][0], measures["ink"][1]) and np.isclose(measures["height"][0], measures["height"][1])
    images = np.stack([upright, upright, leaning, leaning, upright, leaning])
    labels = np.array([1, 1, 1, 1, 7, 7])
    by_slant = np.array([0, 0, 1, 1, 2, 2])  # digit 1's two clusters: upright and leaning
    by_chance = np.array([0, 1, 0, 1, 2, 2])  # digit 1's two clusters: one of each
    for clusters, share in ((by_slant, 1.0), (by_chance, 0.0)):
        per_cluster, _ = module.anatomy(labels, clusters)
        splits = module.split_digits(labels, clusters, per_cluster, module.style_measures(images))
        assert list(splits) == [1] and np.isclose(splits[1]["slant"], share)
        assert np.isnan(splits[1]["ink"]) or np.isclose(splits[1]["ink"], 0.0)


def test_neighbour_purity_counts_the_neighbours_that_share_the_images_label(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    import torch
    purity = importlib.import_module("neighbour_purity").neighbour_purity
    labels = torch.tensor([0, 0, 1, 1])
    neighbours = torch.tensor([[1, 2], [0, 3], [3, 0], [0, 2]])  # first neighbours: same, same, same, other
    assert purity(neighbours, labels, 1) == 0.75
    assert purity(neighbours, labels, 2) == 0.5
