"""Pinned values of the disentanglement metrics on constructed codes."""

import itertools
import math

import numpy as np
import pytest

from trainables.metrics import (
    MetricInputError, beta_vae_score, completeness, dci, disentanglement, factor_vae_score, mig, sap,
)

SMALL = (3, 6, 10, 5)  # every factor at most 20 values: 20 bins keep them apart


def grid(sizes):
    return np.array(list(itertools.product(*[range(s) for s in sizes])))


def split(codes, factors, seed=0):
    order = np.random.default_rng(seed).permutation(len(codes))
    cut = 2 * len(codes) // 3
    return codes[order[:cut]], factors[order[:cut]], codes[order[cut:]], factors[order[cut:]]


@pytest.fixture(scope="module")
def perfect():
    factors = grid(SMALL)
    return factors.astype(float), factors


@pytest.fixture(scope="module")
def noise():
    factors = grid(SMALL)
    return np.random.default_rng(0).normal(size=(len(factors), 4)), factors


@pytest.fixture(scope="module")
def rotated(perfect):
    codes, factors = perfect
    standard = (codes - codes.mean(0)) / codes.std(0)
    angle = math.pi / 4
    rotation = np.eye(4)
    rotation[:2, :2] = [[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]]
    return standard @ rotation, factors


def test_identity_code_scores_one_everywhere(perfect):
    codes, factors = perfect
    assert mig(codes, factors) == pytest.approx(1.0, abs=1e-6)
    scores = dci(*split(codes, factors))
    assert scores["dci_disentanglement"] > 0.99 and scores["dci_completeness"] > 0.99
    assert scores["dci_informativeness"] > 0.99
    assert factor_vae_score(codes, factors) == 1.0
    assert beta_vae_score(codes, factors) > 0.99


def test_sap_of_identity_code_on_binary_factors_is_one_minus_chance():
    # SAP is a gap in accuracy: the right latent scores 1, every other one chance (1/2)
    factors = np.tile(grid((2, 2, 2, 2)), (20, 1))
    assert sap(*split(factors.astype(float), factors)) == pytest.approx(0.5, abs=0.05)


def test_sap_of_identity_code_on_many_valued_factors_is_per_factor_linear_accuracy(perfect):
    # a 1-D linear classifier separates only the end values of an ordered factor (see sap.py)
    codes, factors = perfect
    score = sap(*split(codes, factors))
    assert 0.25 < score < 0.6
    assert score > 5 * sap(*split(np.random.default_rng(0).normal(size=codes.shape), factors))


def test_noise_scores_near_zero_or_chance(noise):
    codes, factors = noise
    assert mig(codes, factors) < 0.05
    assert sap(*split(codes, factors)) < 0.05
    scores = dci(*split(codes, factors))
    assert scores["dci_disentanglement"] < 0.2 and scores["dci_completeness"] < 0.2
    chance = 1 / factors.shape[1]
    assert abs(factor_vae_score(codes, factors) - chance) < 0.15
    assert abs(beta_vae_score(codes, factors) - chance) < 0.1


def test_rotation_scores_lower(perfect, rotated):
    assert mig(*rotated) < mig(*perfect) - 0.2
    d_rot, d_perfect = dci(*split(*rotated)), dci(*split(*perfect))
    assert d_rot["dci_disentanglement"] < d_perfect["dci_disentanglement"] - 0.1
    assert d_rot["dci_completeness"] < d_perfect["dci_completeness"] - 0.1


def test_permutation_and_scaling_leave_scores_unchanged(rotated):
    codes, factors = rotated
    moved = codes[:, [2, 0, 3, 1]] * np.array([3.0, 0.5, 10.0, 2.0])
    assert mig(moved, factors) == pytest.approx(mig(codes, factors))
    assert factor_vae_score(moved, factors) == pytest.approx(factor_vae_score(codes, factors))
    a, b = dci(*split(codes, factors)), dci(*split(moved, factors))
    assert a["dci_disentanglement"] == pytest.approx(b["dci_disentanglement"], abs=0.02)
    assert sap(*split(codes, factors)) == pytest.approx(sap(*split(moved, factors)))
    assert beta_vae_score(moved, factors) == pytest.approx(beta_vae_score(codes, factors), abs=0.01)


def test_full_dsprites_identity_mig_about_090():
    factors = grid((3, 6, 40, 32, 32))[::5]
    assert mig(factors.astype(float), factors) == pytest.approx(0.90, abs=0.03)


@pytest.mark.parametrize("booster", ["lightgbm", "sklearn"])
def test_dci_boosters_agree_on_identity_and_noise(perfect, noise, booster):
    good, bad = dci(*split(*perfect), booster=booster), dci(*split(*noise), booster=booster)
    assert good["dci_disentanglement"] > 0.95 and good["dci_completeness"] > 0.95
    assert bad["dci_disentanglement"] < 0.2


def test_dci_exact_values_on_importance_matrices():
    assert disentanglement(np.eye(10)) == pytest.approx(1.0)
    assert completeness(np.eye(10)) == pytest.approx(1.0)
    two_factors_per_code = np.zeros((5, 10))
    for i in range(5):
        two_factors_per_code[i, [2 * i, 2 * i + 1]] = 1.0
    assert disentanglement(two_factors_per_code) == pytest.approx(1 - math.log(2) / math.log(10))
    duplicated = np.vstack([np.eye(5), np.eye(5)])  # 10 codes, each factor served by two
    assert completeness(duplicated) == pytest.approx(1 - math.log(2) / math.log(10))
    assert disentanglement(np.zeros((10, 5))) == pytest.approx(0.0, abs=1e-6)
    assert completeness(np.zeros((10, 5))) == pytest.approx(0.0, abs=1e-6)


def test_collapsed_latents_are_pruned(perfect):
    codes, factors = perfect
    with_dead = np.c_[codes, np.full(len(codes), 0.3), np.random.default_rng(0).normal(scale=1e-3, size=len(codes))]
    assert factor_vae_score(with_dead, factors) == 1.0
    assert factor_vae_score(np.zeros_like(codes) + 1e-4 * np.random.default_rng(1).normal(size=codes.shape), factors) == 0.0


def test_validation_errors():
    factors = grid((3, 4))
    with pytest.raises(MetricInputError, match="NaN"):
        factor_vae_score(np.full((12, 2), np.nan), factors)
    with pytest.raises(MetricInputError, match="single value"):
        beta_vae_score(np.ones((12, 2)), np.c_[factors[:, 0], np.zeros(12, dtype=int)])
    with pytest.raises(MetricInputError, match="integer"):
        dci(np.ones((12, 2)), factors.astype(float), np.ones((3, 2)), factors[:3])
    with pytest.raises(MetricInputError, match="disagree"):
        sap(np.ones((12, 2)), factors, np.ones((3, 3)), factors[:3])
    with pytest.raises(MetricInputError, match="at least 2 points|needs at least"):
        mig(np.ones((1, 2)), factors[:1])
