import math

import numpy as np
import pytest
from scipy import integrate, stats

import torch

from trainables.methods.hybrid import MinibatchMarginals
from trainables.metrics import (
    MetricInputError, cluster_accuracy, hybrid_total_correlation, mi_x_y, mi_x_z, many_to_one_accuracy, probe_accuracy, total_correlation,
)


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


def independent_codes(n: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 2)), np.full((n, 2), math.log(0.05))


def exact_mi_of_a_sign_through_gaussian_noise(noise_var: float) -> float:
    """I(y; z_0) for y = sign(mu_0), mu_0 ~ N(0, 1), z_0 = mu_0 + N(0, noise_var): log 2 - E H(y | z_0)."""
    def binary_entropy(p: float) -> float:
        p = min(max(p, 1e-15), 1 - 1e-15)
        return -(p * math.log(p) + (1 - p) * math.log(1 - p))
    def integrand(z: float) -> float:  # mu_0 | z_0 ~ N(z_0 / (1 + v), v / (1 + v))
        return stats.norm.pdf(z, scale=math.sqrt(1 + noise_var)) * binary_entropy(stats.norm.cdf(z / math.sqrt(noise_var * (1 + noise_var))))
    return math.log(2) - integrate.quad(integrand, -10, 10)[0]


def test_hybrid_tc_adds_what_the_category_shares_with_the_latents():
    mu, logvar = independent_codes()
    tc_z = total_correlation(mu, logvar)
    copies_z0 = np.eye(2)[(mu[:, 0] > 0).astype(int)]  # y = sign of mu_0, blurred by the posterior noise in z
    shared = hybrid_total_correlation(mu, logvar, copies_z0) - tc_z
    assert shared == pytest.approx(exact_mi_of_a_sign_through_gaussian_noise(0.05), abs=0.03)  # 0.54 nats, not log 2
    unrelated = np.eye(2)[np.random.default_rng(1).integers(0, 2, len(mu))]  # y independent of z
    assert hybrid_total_correlation(mu, logvar, unrelated) - tc_z < 0.05
    uninformative = np.full((len(mu), 5), 0.2)  # p(y|x) the same for every x: y says nothing
    assert hybrid_total_correlation(mu, logvar, uninformative) == pytest.approx(tc_z, abs=1e-5)


def test_hybrid_tc_matches_the_imae_training_estimate_on_one_batch():
    mu, logvar = independent_codes(300)
    probs = torch.softmax(torch.as_tensor(mu[:, :1] * np.array([[2.0, -1.0, 0.0]])), dim=1).numpy()
    noise = torch.randn(mu.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float32)
    mu_t, logvar_t = torch.as_tensor(mu, dtype=torch.float32), torch.as_tensor(logvar, dtype=torch.float32)
    z = mu_t + torch.exp(0.5 * logvar_t) * noise  # the evaluation's sample (seed 0)
    training = MinibatchMarginals(z, mu_t, logvar_t, torch.as_tensor(probs, dtype=torch.float32)).total_correlation().item()
    assert hybrid_total_correlation(mu, logvar, probs, batch_size=300, seed=0) == pytest.approx(training, abs=1e-4)


def test_hybrid_tc_rejects_probabilities_that_do_not_fit_the_code():
    mu, logvar = independent_codes(10)
    with pytest.raises(MetricInputError, match="points x classes"):
        hybrid_total_correlation(mu, logvar, np.full((9, 2), 0.5))
    with pytest.raises(MetricInputError, match="probability vectors"):
        hybrid_total_correlation(mu, logvar, np.full((10, 2), 0.7))


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
