"""MNIST and Fashion-MNIST through torchvision, read from a data root the user names.

The root comes from the `root` argument or the STUDY_DATA_ROOT environment variable and holds
torchvision's layout (`<root>/MNIST/raw/...`, `<root>/FashionMNIST/raw/...`). Nothing is
downloaded unless the user asks (`download=True`); torchvision then fetches the files, or, if
only the `.gz` archives are present, checks and unpacks them without network.

`validation=N` holds out N training images (a seeded random choice) and returns them as the
evaluation split, leaving the test set untouched: settings are then chosen without test labels,
and the test set scores only the runs that report a result.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torchvision

from .base import DataError, ImageSet, Splits

ROOT_VARIABLE = "STUDY_DATA_ROOT"
_CLASSES = {"mnist": torchvision.datasets.MNIST, "fashion_mnist": torchvision.datasets.FashionMNIST}
_RAW_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def resolve_root(root: str | Path | None) -> Path:
    """The data root from the argument, else from STUDY_DATA_ROOT, else a clear error."""
    chosen = root if root is not None else os.environ.get(ROOT_VARIABLE)
    if not chosen:
        raise DataError(
            f"no data root given: pass root=... (the spec's dataset.root) or set {ROOT_VARIABLE} to the folder "
            "that holds MNIST/raw and FashionMNIST/raw"
        )
    return Path(chosen).expanduser().resolve()


def load_torchvision_set(name: str, root: str | Path | None = None, download: bool = False, validation: int = 0, split_seed: int = 0) -> Splits:
    """Train (60,000) and test (10,000) splits of 1 x 28 x 28 images in [0, 1], 10 classes; with
    `validation` > 0, train on the rest of the training set and evaluate on that many held-out training images."""
    cls = _CLASSES[name]
    if isinstance(validation, bool) or not isinstance(validation, int) or not 0 <= validation < 60000:
        raise DataError(f"{name}: validation must be a whole number of training images to hold out, 0 to 59,999; got {validation!r}")
    folder = resolve_root(root)
    raw = folder / cls.__name__ / "raw"
    missing = [f for f in _RAW_FILES if not (raw / f).is_file()]
    if missing and not download:
        hint = (
            "the .gz archives are there: set download: true to unpack them (no network needed)"
            if all((raw / f"{f}.gz").is_file() for f in missing)
            else "set download: true to fetch them, or copy torchvision's raw files there"
        )
        raise DataError(f"{name}: expected {', '.join(missing)} in {raw}; {hint}")
    splits = {}
    for train in (True, False):
        try:
            ds = cls(root=str(folder), train=train, download=download)
        except RuntimeError as error:  # torchvision's own message for a failed download or check
            raise DataError(f"{name}: could not load from {raw}: {error}") from error
        images = ds.data.unsqueeze(1).float().div_(255.0)
        splits[train] = ImageSet(name=name, images=images, labels=ds.targets.clone().long(), num_classes=10)
    if not validation:
        return Splits(train=splits[True], test=splits[False], info={"root": str(folder)})
    order = torch.randperm(len(splits[True]), generator=torch.Generator().manual_seed(split_seed))
    held_out, kept = order[:validation].sort().values, order[validation:].sort().values
    info = {"root": str(folder), "evaluation": f"{validation} held-out training images (validation; the test set is not used)"}
    return Splits(train=splits[True].take(kept), test=splits[True].take(held_out), info=info)
