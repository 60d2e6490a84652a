import itertools

import numpy as np
import pytest

from trainables.metrics import MetricInputError, clustering_scores, hungarian_accuracy, kmeans_clusters, mig


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
