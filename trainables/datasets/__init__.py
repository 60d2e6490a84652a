"""One loader API for every dataset: `load_dataset(name, **options) -> Splits` of tensors."""

from __future__ import annotations

from typing import Any

from .base import DataError, ImageSet, Splits
from .digits import load_sklearn_digits
from .dsprites import generate_dsprites, load_dsprites_npz
from .stl10 import load_stl10
from .torchvision_sets import load_torchvision_set

DATASETS = ("dsprites", "digits", "mnist", "fashion_mnist", "stl10")


def load_dataset(name: str, **options: Any) -> Splits:
    """Load a dataset by name.

    dsprites: resolution, sizes (values per factor), test_fraction, split_seed, and `path` to
      read the official .npz instead of generating the sprites.
    digits: test_fraction, split_seed.
    mnist, fashion_mnist: root (else STUDY_DATA_ROOT), download.
    stl10: root (else STUDY_DATA_ROOT), train_split, resize, download.
    """
    try:
        if name == "dsprites":
            path = options.pop("path", None)
            if path is not None:
                options.pop("resolution", None)
                return load_dsprites_npz(path, **options)
            return generate_dsprites(**options)
        if name == "digits":
            return load_sklearn_digits(**options)
        if name in ("mnist", "fashion_mnist"):
            return load_torchvision_set(name, **options)
        if name == "stl10":
            return load_stl10(**options)
    except TypeError as error:  # an option the loader does not take
        raise DataError(f"{name}: {error}") from error
    raise DataError(f"unknown dataset {name!r}; datasets are {', '.join(DATASETS)}")


__all__ = ["DATASETS", "DataError", "ImageSet", "Splits", "load_dataset"]
