import math

import numpy as np
import pytest

from trainables.metrics import MetricInputError, cluster_accuracy, mi_x_y, mi_x_z, many_to_one_accuracy, probe_accuracy, total_correlation


def test_mi_x_y_is_log_k_for_confident_balanced_assignment():
    probs = np.eye(10)[np.repeat(np.arange(10), 7)]
    assert mi_x_y(probs) == pytest.approx(math.log(10))


def test_mi_x_y_is_zero_for_a_constant_assignment():
    assert mi_x_y(np.tile([0.2, 0.3, 0.5], (40, 1))) == pytest.approx(0.0, abs=1e-12)
    assert mi_x_y(np.eye(4)[np.zeros(30, dtype=int)]) == pytest.approx(0.0, abs=1e-12)


def test_mi_x_y_rejects_non_probabilities():
    with pytest.raises(MetricInputError, match="probability"):
        mi_x_y(np.full((5, 3), 0.5))


def test_mi_x_z_informative_vs_uninformative_latents():
    rng = np.random.default_rng(0)
    n = 1000
    mu = np.c_[rng.normal(size=n) * 3, np.zeros(n)]  # latent 0 varies with x, latent 1 does not
    logvar = np.full((n, 2), math.log(0.01))
    mi = mi_x_z(mu, logvar)
    assert mi[0] > 2.0 and abs(mi[1]) < 0.05
    assert mi[0] <= math.log(n) + 1e-9  # the estimator is bounded by log N


def test_total_correlation_dependent_vs_independent():
    rng = np.random.default_rng(0)
    n = 1000
    a = rng.normal(size=n)
    logvar = np.full((n, 2), math.log(0.05))
    independent = np.c_[a, rng.normal(size=n)]
    dependent = np.c_[a, a]
    assert total_correlation(dependent, logvar) > total_correlation(independent, logvar) + 1.0
    assert total_correlation(independent, logvar) < 0.5


def test_many_to_one_accuracy():
    labels = np.repeat(np.arange(3), 10)
    clusters = np.arange(30) // 5  # 6 clusters, each inside one class
    assert many_to_one_accuracy(labels, clusters) == 1.0
    assert cluster_accuracy(labels, clusters) == 1.0  # more clusters than classes -> many-to-one
    clusters[0] = 5  # one point into a cluster whose majority is class 2
    assert cluster_accuracy(labels, clusters) == pytest.approx(29 / 30)


def test_probe_on_separable_and_on_noise_codes():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 100)
    separable = np.eye(4)[labels] * 5 + rng.normal(size=(400, 4))
    order = rng.permutation(400)
    train, test = order[:300], order[300:]
    assert probe_accuracy(separable[train], labels[train], separable[test], labels[test]) > 0.95
    noise = rng.normal(size=(400, 4))
    assert probe_accuracy(noise[train], labels[train], noise[test], labels[test]) < 0.45
    with pytest.raises(MetricInputError, match="two classes"):
        probe_accuracy(noise[train], np.zeros(300, dtype=int), noise[test], labels[test])


def test_gaussian_estimator_validation():
    with pytest.raises(MetricInputError, match="one shape"):
        mi_x_z(np.zeros((10, 2)), np.zeros((10, 3)))
    with pytest.raises(MetricInputError, match="at least 2 points"):
        total_correlation(np.zeros((1, 2)), np.zeros((1, 2)))
    with pytest.raises(MetricInputError, match="NaN"):
        mi_x_z(np.full((10, 2), np.nan), np.zeros((10, 2)))


def test_mi_x_z_is_bounded_by_log_of_the_minibatch():
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(400, 1)) * 10
    logvar = np.full((400, 1), math.log(1e-4))
    value = mi_x_z(mu, logvar, batch_size=100)[0]
    assert 0.95 * math.log(100) < value <= math.log(100) + 1e-6
    assert mi_x_z(mu, logvar, batch_size=400)[0] > math.log(100) + 1.0  # a larger batch lifts the ceiling
