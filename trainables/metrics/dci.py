"""DCI: disentanglement, completeness and informativeness.

Eastwood & Williams, "A Framework for the Quantitative Evaluation of Disentangled
Representations", ICLR 2018; estimator as in disentanglement_lib's `dci.py`: one
gradient-boosted-tree classifier per factor predicts the factor from the whole code; the
trees' (gain) feature importances form a latents x factors importance matrix R.

Booster: `"lightgbm"` (default) or `"sklearn"`. disentanglement_lib uses scikit-learn's
GradientBoostingClassifier with its defaults (100 rounds, learning rate 0.1, depth 3), which
grows one tree per class per round in Python and took 4.3 s for 480 points and five factors
here (0.5 s with LightGBM): too slow to run every epoch. The LightGBM booster uses the same
100 rounds, learning rate 0.1 and depth 3 (8 leaves), any leaf size, and gain importances;
`booster="sklearn"` reproduces disentanglement_lib exactly. Both give the pinned values of
tests/test_disentanglement_metrics.py.
- disentanglement: for each latent, 1 - entropy of its row of R (base = number of factors),
  weighted by the latent's share of the total importance;
- completeness: for each factor, 1 - entropy of its column of R (base = number of latents),
  weighted by the factor's share;
- informativeness: the classifiers' mean accuracy, on the training and on the test points.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import entropy
from sklearn.ensemble import GradientBoostingClassifier

from .validation import MetricInputError, as_codes, as_factor_matrix


def _booster(name: str, seed: int):
    if name == "lightgbm":
        from lightgbm import LGBMClassifier  # here, not at the top: a trial that scores no factors needs no lightgbm (nor pandas, which it loads)

        return LGBMClassifier(
            n_estimators=100, learning_rate=0.1, max_depth=3, num_leaves=8, min_child_samples=1, min_data_in_bin=1,
            importance_type="gain", random_state=seed, n_jobs=1, verbose=-1,
        )
    if name == "sklearn":
        return GradientBoostingClassifier(random_state=seed)
    raise ValueError(f"booster must be 'lightgbm' or 'sklearn', got {name!r}")


def importance_matrix(
    codes, factors, test_codes, test_factors, seed: int = 0, booster: str = "lightgbm"
) -> tuple[np.ndarray, float, float]:
    """R (latents x factors), and the mean train and test accuracy of the per-factor classifiers."""
    codes, test_codes = as_codes(codes), as_codes(test_codes, "test codes", min_points=1)
    factors = as_factor_matrix(factors, codes.shape[0])
    test_factors = np.asarray(test_factors)
    if test_codes.shape[1] != codes.shape[1] or test_factors.shape != (test_codes.shape[0], factors.shape[1]):
        raise MetricInputError("train and test codes/factors disagree in shape")
    matrix = np.zeros((codes.shape[1], factors.shape[1]))
    train_acc, test_acc = [], []
    for j in range(factors.shape[1]):
        model = _booster(booster, seed).fit(codes, factors[:, j])
        importances = np.abs(np.asarray(model.feature_importances_, dtype=np.float64))
        matrix[:, j] = importances / importances.sum() if importances.sum() > 0 else importances
        train_acc.append(np.mean(model.predict(codes) == factors[:, j]))
        test_acc.append(np.mean(model.predict(test_codes) == test_factors[:, j]))
    return matrix, float(np.mean(train_acc)), float(np.mean(test_acc))


def _weighted_one_minus_entropy(matrix: np.ndarray) -> float:
    """Rows are the units scored; each row's entropy uses base = number of columns."""
    per_row = 1.0 - entropy(matrix.T + 1e-11, base=matrix.shape[1])
    weights = matrix if matrix.sum() > 0 else np.ones_like(matrix)
    share = weights.sum(axis=1) / weights.sum()
    return float(np.sum(per_row * share))


def disentanglement(importance: np.ndarray) -> float:
    """How much each latent concentrates on one factor (1: each latent explains one factor)."""
    return _weighted_one_minus_entropy(np.asarray(importance, dtype=np.float64))


def completeness(importance: np.ndarray) -> float:
    """How much each factor is captured by one latent (1: each factor in a single latent)."""
    return _weighted_one_minus_entropy(np.asarray(importance, dtype=np.float64).T)


def dci(codes, factors, test_codes, test_factors, seed: int = 0, booster: str = "lightgbm") -> dict[str, float]:
    matrix, train_acc, test_acc = importance_matrix(codes, factors, test_codes, test_factors, seed, booster)
    return {
        "dci_disentanglement": disentanglement(matrix),
        "dci_completeness": completeness(matrix),
        "dci_informativeness": test_acc,
        "dci_informativeness_train": train_acc,
    }
