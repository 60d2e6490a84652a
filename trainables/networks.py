"""Encoders and decoders shared by the methods, chosen by input shape.

- MLP: the 500-500 network of the IMAE paper's appendix E (seed 001), for small or
  non-square images (digits 8x8, MNIST 28x28).
- Conv: disentanglement_lib's conv encoder (4x4 stride-2 convolutions 32, 32, 64, 64, then
  dense 256) and deconv decoder (dense 256, dense 4x4x64, transposed convolutions back up)
  for 64x64 images; smaller power-of-two sizes drop the first stride-2 stages, so 32x32 uses
  convolutions 32, 64, 64.

Decoders return logits; the Bernoulli likelihood is applied by the loss.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def uses_conv(image_shape: tuple[int, int, int]) -> bool:
    """Square power-of-two images of 16 pixels or more go through the conv networks."""
    _, h, w = image_shape
    return h == w and h >= 16 and (h & (h - 1)) == 0


def _conv_channels(size: int) -> list[int]:
    stages = int(math.log2(size // 4))
    full = [32, 32, 64, 64]
    if stages > len(full):
        raise ValueError(f"conv networks go up to 64x64 images, got {size}x{size}")
    return full[len(full) - stages :]


class MLPEncoder(nn.Module):
    def __init__(self, image_shape: tuple[int, int, int], out_dim: int, hidden: int = 500) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(math.prod(image_shape), hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Linear(hidden, out_dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class MLPDecoder(nn.Module):
    def __init__(self, image_shape: tuple[int, int, int], in_dim: int, hidden: int = 500) -> None:
        super().__init__()
        self.image_shape = image_shape
        self.net = nn.Sequential(
            nn.Linear(in_dim, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, math.prod(image_shape)),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, *self.image_shape)


class ConvEncoder(nn.Module):
    def __init__(self, image_shape: tuple[int, int, int], out_dim: int) -> None:
        super().__init__()
        channels, size, _ = image_shape
        layers: list[nn.Module] = []
        previous = channels
        for width in _conv_channels(size):
            layers += [nn.Conv2d(previous, width, 4, stride=2, padding=1), nn.ReLU()]
            previous = width
        layers += [nn.Flatten(), nn.Linear(previous * 16, 256), nn.ReLU(), nn.Linear(256, out_dim)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ConvDecoder(nn.Module):
    def __init__(self, image_shape: tuple[int, int, int], in_dim: int) -> None:
        super().__init__()
        channels, size, _ = image_shape
        encoder_widths = _conv_channels(size)
        widths = list(reversed(encoder_widths))[1:] + [channels]
        layers: list[nn.Module] = [
            nn.Linear(in_dim, 256),
            nn.ReLU(),
            nn.Linear(256, 64 * 16),
            nn.ReLU(),
            nn.Unflatten(1, (64, 4, 4)),
        ]
        previous = 64
        for i, width in enumerate(widths):
            layers.append(nn.ConvTranspose2d(previous, width, 4, stride=2, padding=1))
            if i < len(widths) - 1:
                layers.append(nn.ReLU())
            previous = width
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


def make_encoder(image_shape: tuple[int, int, int], out_dim: int) -> nn.Module:
    return ConvEncoder(image_shape, out_dim) if uses_conv(image_shape) else MLPEncoder(image_shape, out_dim)


def make_decoder(image_shape: tuple[int, int, int], in_dim: int) -> nn.Module:
    return ConvDecoder(image_shape, in_dim) if uses_conv(image_shape) else MLPDecoder(image_shape, in_dim)
