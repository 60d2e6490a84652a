"""The one shape every dataset takes: tensors in memory, with labels and factors where they exist.

Trials index these tensors directly (no DataLoader, no file reads after loading), so the
whole set must fit in memory; that is true of every dataset this project studies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch


class DataError(ValueError):
    """A dataset cannot be loaded as asked (missing files, bad options)."""


@dataclass
class ImageSet:
    """One split of a dataset.

    images: float32 N x C x H x W in [0, 1].
    labels: int64 N class indices, or None where the set has no classes.
    factors: int64 N x F ground-truth factor indices, or None.
    """

    name: str
    images: torch.Tensor
    labels: torch.Tensor | None = None
    factors: torch.Tensor | None = None
    factor_names: tuple[str, ...] = ()
    factor_sizes: tuple[int, ...] = ()
    num_classes: int | None = None

    def __post_init__(self) -> None:
        n = self.images.shape[0]
        if self.images.ndim != 4:
            raise DataError(f"{self.name}: images must be N x C x H x W, got shape {tuple(self.images.shape)}")
        if self.labels is not None and self.labels.shape != (n,):
            raise DataError(f"{self.name}: {self.labels.shape[0]} labels for {n} images")
        if self.factors is not None:
            if self.factors.shape != (n, len(self.factor_names)) or len(self.factor_sizes) != len(self.factor_names):
                raise DataError(f"{self.name}: factors of shape {tuple(self.factors.shape)} do not match names {self.factor_names}")

    def __len__(self) -> int:
        return self.images.shape[0]

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.images.shape[1:])  # type: ignore[return-value]

    def take(self, indices: torch.Tensor) -> "ImageSet":
        """A new set holding the given rows (shares nothing mutable with this one)."""
        return ImageSet(
            name=self.name,
            images=self.images[indices],
            labels=None if self.labels is None else self.labels[indices],
            factors=None if self.factors is None else self.factors[indices],
            factor_names=self.factor_names,
            factor_sizes=self.factor_sizes,
            num_classes=self.num_classes,
        )

    def subset(self, size: int, seed: int = 0) -> "ImageSet":
        """A deterministic random subset (same size and seed -> same rows), for evaluation."""
        if size >= len(self):
            return self
        generator = torch.Generator().manual_seed(seed)
        indices = torch.randperm(len(self), generator=generator)[:size].sort().values
        return self.take(indices)


@dataclass
class Splits:
    """Train and test splits of one dataset."""

    train: ImageSet
    test: ImageSet
    info: dict = field(default_factory=dict)
