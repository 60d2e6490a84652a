"""scikit-learn's bundled 8x8 handwritten digits: a tiny labelled set that needs no files."""

from __future__ import annotations

import torch
from sklearn.datasets import load_digits

from .base import ImageSet, Splits


def load_sklearn_digits(test_fraction: float = 0.2, split_seed: int = 0) -> Splits:
    """1,797 images of 1 x 8 x 8 in [0, 1] (pixel counts 0..16 divided by 16), 10 classes."""
    bunch = load_digits()
    images = torch.as_tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
    full = ImageSet(name="digits", images=images, labels=torch.as_tensor(bunch.target, dtype=torch.long), num_classes=10)
    order = torch.randperm(len(full), generator=torch.Generator().manual_seed(split_seed))
    n_test = int(round(test_fraction * len(full)))
    return Splits(train=full.take(order[n_test:].sort().values), test=full.take(order[:n_test].sort().values))
