import itertools

import numpy as np
import pytest

from trainables.metrics import MetricInputError, clustering_scores, confident_example_accuracy, hungarian_accuracy, kmeans_clusters, mig


def all_combinations(sizes):
    return np.array(list(itertools.product(*[range(s) for s in sizes])))


def test_mig_of_a_code_equal_to_small_factors_is_one():
    factors = all_combinations((3, 6, 10, 5))
    assert mig(factors.astype(float), factors) == pytest.approx(1.0, abs=1e-9)


def test_mig_of_full_dsprites_factors_is_about_090():
    # 32 and 40 values into 20 bins merge neighbours, so the identity code loses some information
    factors = all_combinations((3, 6, 40, 32, 32))[::7]
    score = mig(factors.astype(float), factors)
    assert 0.85 < score < 0.95


def test_mig_of_noise_is_near_zero():
    rng = np.random.default_rng(0)
    factors = all_combinations((3, 6, 10, 8))
    assert mig(rng.normal(size=(len(factors), 10)), factors) < 0.05


def test_mig_is_invariant_to_latent_permutation_and_scale():
    factors = all_combinations((3, 6, 10))
    code = np.c_[factors, np.random.default_rng(1).normal(size=len(factors))].astype(float)
    shuffled = code[:, [3, 2, 0, 1]] * np.array([5.0, 0.1, 3.0, 2.0])
    assert mig(shuffled, factors) == pytest.approx(mig(code, factors))


def test_mig_validation():
    factors = all_combinations((3, 4))
    with pytest.raises(MetricInputError, match="NaN"):
        mig(np.full((len(factors), 3), np.nan), factors)
    with pytest.raises(MetricInputError, match="single value"):
        mig(np.random.default_rng(0).normal(size=(12, 3)), np.c_[factors[:, 0], np.zeros(12, dtype=int)])
    with pytest.raises(MetricInputError, match="two latents"):
        mig(np.ones((12, 1)), factors)
    with pytest.raises(MetricInputError, match="factors must be"):
        mig(np.ones((10, 3)), factors)


def test_hungarian_accuracy_of_a_permuted_labelling_is_one():
    labels = np.repeat(np.arange(5), 20)
    permuted = np.array([3, 0, 4, 1, 2])[labels]
    assert hungarian_accuracy(labels, permuted) == 1.0


def test_hungarian_accuracy_with_a_known_share_reassigned():
    labels = np.repeat(np.arange(4), 25)
    clusters = (labels + 1) % 4
    clusters[:10] = (clusters[:10] + 1) % 4  # 10 of 100 points moved to a wrong cluster
    assert hungarian_accuracy(labels, clusters) == pytest.approx(0.9)
    scores = clustering_scores(labels, clusters)
    assert 0 < scores["cluster_ari"] < 1 and 0 < scores["cluster_nmi"] < 1


def test_kmeans_recovers_separated_blobs():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 50)
    codes = np.eye(3)[labels] * 10 + rng.normal(scale=0.1, size=(150, 3))
    assert hungarian_accuracy(labels, kmeans_clusters(codes, 3)) == 1.0


def test_clustering_validation():
    with pytest.raises(MetricInputError, match="labels"):
        hungarian_accuracy(np.arange(5), np.arange(4))


def test_confident_example_labels_follow_each_clusters_most_confident_example():
    # 3 classes in 4 clusters: clusters 0-2 hold classes 0-2, cluster 3 holds class 2 too (split);
    # each cluster's most confident fit example carries its label, so every score point is right
    rng = np.random.default_rng(0)
    cluster_of_class = {0: [0], 1: [1], 2: [2, 3]}
    def sample(n):
        labels = rng.integers(3, size=n)
        clusters = np.array([rng.choice(cluster_of_class[c]) for c in labels])
        probs = np.full((n, 4), 0.05) + np.eye(4)[clusters] * rng.uniform(0.5, 0.8, size=(n, 1))
        return labels, probs / probs.sum(axis=1, keepdims=True)
    fit_labels, fit_probs = sample(60)
    score_labels, score_probs = sample(40)
    assert confident_example_accuracy(fit_labels, fit_probs, score_labels, score_probs) == 1.0
    # mislabel the most confident example of cluster 3: its score points (class 2 in cluster 3) turn wrong
    fit_labels[fit_probs[:, 3].argmax()] = 0
    in_cluster_3 = score_probs.argmax(axis=1) == 3
    assert confident_example_accuracy(fit_labels, fit_probs, score_labels, score_probs) == pytest.approx(1 - in_cluster_3.mean())
    with pytest.raises(MetricInputError, match="clusters"):
        confident_example_accuracy(fit_labels, fit_probs, score_labels, score_probs[:, :3])
