"""Separated Attribute Predictability (SAP) score, for discrete factors.

Kumar, Sattigeri, Balakrishnan, "Variational Inference of Disentangled Latent Concepts from
Unlabeled Observations", ICLR 2018; estimator as in disentanglement_lib's `sap_score.py`:
for every (latent, factor) pair a linear SVM (C=0.01, balanced classes) predicts the factor
from that one latent; its test accuracy fills a latents x factors matrix; for every factor,
the gap between the two best latents; the mean over factors.

One change from disentanglement_lib: each latent is standardised (mean 0, variance 1 on the
training points) before its SVM, so that the score does not depend on a latent's scale
through the SVM's fixed regularisation C.

Two properties of this estimator worth knowing, so that nobody reads SAP against 1: it is a
gap in accuracy, and an uninformative latent still scores chance (1/K on a balanced K-valued
factor), so a code equal to binary factors scores 1 - 1/2 = 0.5; and a one-dimensional linear
classifier cannot carve out the middle values of an ordered factor, so on a 6-valued factor
the right latent itself reaches only about 0.5. Compare SAP across models on the same
factors.
"""

from __future__ import annotations

import numpy as np
from sklearn.svm import LinearSVC

from .validation import MetricInputError, as_codes, as_factor_matrix


def sap_matrix(codes, factors, test_codes, test_factors, C: float = 0.01) -> np.ndarray:
    """Test accuracy of a one-latent linear classifier for each latent (rows) and factor (columns)."""
    codes, test_codes = as_codes(codes), as_codes(test_codes, "test codes", min_points=1)
    factors = as_factor_matrix(factors, codes.shape[0])
    test_factors = np.asarray(test_factors)
    if test_codes.shape[1] != codes.shape[1] or test_factors.shape != (test_codes.shape[0], factors.shape[1]):
        raise MetricInputError("train and test codes/factors disagree in shape")
    mean, std = codes.mean(axis=0), codes.std(axis=0)
    std[std == 0] = 1.0
    codes, test_codes = (codes - mean) / std, (test_codes - mean) / std
    matrix = np.zeros((codes.shape[1], factors.shape[1]))
    for i in range(codes.shape[1]):
        for j in range(factors.shape[1]):
            classifier = LinearSVC(C=C, class_weight="balanced").fit(codes[:, i : i + 1], factors[:, j])
            matrix[i, j] = np.mean(classifier.predict(test_codes[:, i : i + 1]) == test_factors[:, j])
    return matrix


def sap(codes, factors, test_codes, test_factors, C: float = 0.01) -> float:
    """Mean over factors of the accuracy gap between the two most predictive latents."""
    matrix = sap_matrix(codes, factors, test_codes, test_factors, C)
    if matrix.shape[0] < 2:
        raise MetricInputError("SAP needs at least two latents (it is a gap between the top two)")
    top = np.sort(matrix, axis=0)
    return float(np.mean(top[-1] - top[-2]))
