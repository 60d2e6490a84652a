"""STL-10 (Coates, Lee, Ng 2011), the AME-AE paper's dataset (seed 004), read from torchvision's layout.

`<root>/stl10_binary/` holds the binary files: `{train,test,unlabeled}_X.bin` are uint8 images
of 3 x 96 x 96 stored column-major, `{train,test}_y.bin` labels 1..10. They are read here
directly (no per-file checksum pass over 2.6 GB); `download=True` lets torchvision fetch and
unpack the archive first, for users with internet. The paper trains on the 100,000 unlabeled
images and evaluates on the labelled splits; `train_split` chooses. Images are resized (area
averaging) to `resize` pixels, 64 by default so the conv networks apply; at 64 x 64 the
unlabeled split takes 4.9 GB as float32.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torchvision
from torch.nn import functional as F

from .base import DataError, ImageSet, Splits
from .torchvision_sets import resolve_root

SIDE = 96
TRAIN_SPLITS = ("unlabeled", "train", "train+unlabeled")


def _read_images(path: Path, resize: int) -> torch.Tensor:
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size % (3 * SIDE * SIDE):
        raise DataError(f"stl10: {path} is not a whole number of 3x{SIDE}x{SIDE} images ({raw.size} bytes)")
    images = torch.from_numpy(raw.reshape(-1, 3, SIDE, SIDE)).transpose(2, 3)  # column-major on disk
    chunks = []
    for chunk in images.split(2048):
        chunk = chunk.float().div_(255.0)
        chunks.append(chunk if resize == SIDE else F.interpolate(chunk, size=(resize, resize), mode="area"))
    return torch.cat(chunks) if chunks else torch.empty(0, 3, resize, resize)


def _read_labels(path: Path, count: int) -> torch.Tensor:
    labels = torch.from_numpy(np.fromfile(path, dtype=np.uint8).astype(np.int64)) - 1
    if len(labels) != count:
        raise DataError(f"stl10: {path} has {len(labels)} labels for {count} images")
    return labels


def load_stl10(root: str | Path | None = None, train_split: str = "unlabeled", resize: int = 64, download: bool = False) -> Splits:
    """Train images from `train_split` (labels only where the split has them), test = the 8,000 labelled test images."""
    if train_split not in TRAIN_SPLITS:
        raise DataError(f"stl10: train_split must be one of {', '.join(TRAIN_SPLITS)}, got {train_split!r}")
    if not 8 <= resize <= SIDE:
        raise DataError(f"stl10: resize must be between 8 and {SIDE} pixels, got {resize}")
    folder = resolve_root(root)
    if download:
        for split in ("test", *train_split.split("+")):
            torchvision.datasets.STL10(str(folder), split=split, download=True)
    base = folder / "stl10_binary"
    parts = train_split.split("+")
    needed = [f"{p}_X.bin" for p in parts + ["test"]] + [f"{p}_y.bin" for p in parts + ["test"] if p != "unlabeled"]
    missing = [name for name in needed if not (base / name).is_file()]
    if missing:
        raise DataError(f"stl10: expected {', '.join(missing)} in {base}; set download: true to fetch them")

    test_images = _read_images(base / "test_X.bin", resize)
    test = ImageSet(name="stl10", images=test_images, labels=_read_labels(base / "test_y.bin", len(test_images)), num_classes=10)
    train_parts = [_read_images(base / f"{p}_X.bin", resize) for p in parts]
    labelled = parts == ["train"]
    train_labels = _read_labels(base / "train_y.bin", len(train_parts[0])) if labelled else None
    train = ImageSet(name="stl10", images=torch.cat(train_parts), labels=train_labels, num_classes=10 if labelled else None)
    return Splits(train=train, test=test, info={"root": str(folder), "train_split": train_split})
