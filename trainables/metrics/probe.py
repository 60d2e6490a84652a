"""Linear probe: how linearly decodable the class is from the frozen code.

The evaluation protocol of seed 004 (AME-AE): a linear classifier on frozen codes, trained on
one fixed split and scored on another. Here: scikit-learn's logistic regression on
standardised codes.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .validation import MetricInputError, as_codes, as_labels


def probe_accuracy(codes, labels, test_codes, test_labels, seed: int = 0) -> float:
    """Test accuracy of a logistic regression fitted on (codes, labels)."""
    codes, test_codes = as_codes(codes), as_codes(test_codes, "test codes", min_points=1)
    labels = as_labels(labels, codes.shape[0], "labels")
    test_labels = as_labels(test_labels, test_codes.shape[0], "test labels")
    if np.unique(labels).size < 2:
        raise MetricInputError("the probe needs at least two classes among its training labels")
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=seed))
    return float(model.fit(codes, labels).score(test_codes, test_labels))
