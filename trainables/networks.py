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


def memory_format_for(device: torch.device) -> torch.memory_format:
    """The layout a trial keeps its networks and images in: channels-last on CPU, where oneDNN's
    convolutions run about 15% faster on it (benchmarks/results/training_throughput.txt) for the
    same arithmetic up to rounding (tests/test_fused.py); the default layout elsewhere."""
    return torch.channels_last if device.type == "cpu" else torch.contiguous_format


def images_on(images: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Images moved to the device, in its preferred layout (one copy, once per trial)."""
    return images.to(device).contiguous(memory_format=memory_format_for(device)) if images.dim() == 4 else images.to(device)


class OneChannelConvTranspose2d(nn.ConvTranspose2d):
    """nn.ConvTranspose2d whose CPU forward, for one output channel, is the same arithmetic written as
    a matrix product and torch's col2im (`F.fold`).

    Why: a decoder's last layer for grey-scale images maps many channels to one, and oneDNN's transposed
    convolution runs that shape at a few GFLOP/s, 2-3x slower forward and backward than the product
    plus fold (benchmarks/results/training_throughput.txt). Same parameters and state dict; other
    devices, channel counts and options use the native kernel (cuDNN handles the shape well)."""

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        plain = self.groups == 1 and self.dilation == (1, 1) and self.output_padding == (0, 0) and self.padding_mode == "zeros"
        if x.device.type != "cpu" or self.out_channels != 1 or output_size is not None or x.dim() != 4 or not plain:
            return super().forward(x, output_size)
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        out_hw = ((x.shape[2] - 1) * sh - 2 * ph + kh, (x.shape[3] - 1) * sw - 2 * pw + kw)
        columns = self.weight.flatten(1).t() @ x.flatten(2)  # (batch, k*k, input pixels)
        out = nn.functional.fold(columns, out_hw, self.kernel_size, stride=self.stride, padding=self.padding)
        return out if self.bias is None else out + self.bias.view(1, -1, 1, 1)


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
            layers.append(OneChannelConvTranspose2d(previous, width, 4, stride=2, padding=1))
            if i < len(widths) - 1:
                layers.append(nn.ReLU())
            previous = width
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class SpatialBroadcastDecoder(nn.Module):
    """Spatial broadcast decoder (Watters, Matthey, Burgess, Lerchner, 2019): the code is tiled over
    the image grid, two coordinate channels (x and y in [-1, 1]) are appended, and unpadded 3x3
    convolutions map each pixel's (z, x, y) to its logit. Position then needs no deconvolution to
    be drawn, which the paper finds makes positional factors far easier to disentangle; why it is
    here: FactorVAE on procedural dSprites did not disentangle within CPU budgets (issue 12). Width
    16 and three layers (the paper: 64 and four, at 64x64) keep a 32x32 step near the deconvolution
    decoder's cost on one CPU thread; at width 32 the decoder alone cost 4x as much."""

    def __init__(self, image_shape: tuple[int, int, int], in_dim: int, width: int = 16, layers: int = 3) -> None:
        super().__init__()
        channels, height, image_width = image_shape
        self.image_shape, self.margin = image_shape, layers  # each unpadded 3x3 layer trims one pixel a side
        rows = torch.linspace(-1, 1, height + 2 * layers)
        columns = torch.linspace(-1, 1, image_width + 2 * layers)
        grid_y, grid_x = torch.meshgrid(rows, columns, indexing="ij")
        self.register_buffer("coordinates", torch.stack([grid_x, grid_y]).unsqueeze(0), persistent=False)
        convolutions: list[nn.Module] = []
        previous = in_dim + 2
        for _ in range(layers):
            convolutions += [nn.Conv2d(previous, width, 3), nn.ReLU()]
            previous = width
        convolutions.append(nn.Conv2d(previous, channels, 1))
        self.net = nn.Sequential(*convolutions)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        batch, dims = z.shape
        _, rows, columns = self.coordinates.shape[1:]
        tiled = z.view(batch, dims, 1, 1).expand(batch, dims, rows, columns)
        return self.net(torch.cat([tiled, self.coordinates.expand(batch, -1, -1, -1)], dim=1))


DECODERS = ("conv", "broadcast")


def make_encoder(image_shape: tuple[int, int, int], out_dim: int) -> nn.Module:
    return ConvEncoder(image_shape, out_dim) if uses_conv(image_shape) else MLPEncoder(image_shape, out_dim)


def make_decoder(image_shape: tuple[int, int, int], in_dim: int, kind: str = "conv") -> nn.Module:
    """The default decoder for the image size (`conv`: transposed convolutions, or an MLP for small or
    non-square images), or the spatial broadcast decoder (`broadcast`, any image size)."""
    if kind not in DECODERS:
        raise ValueError(f"decoder must be one of {list(DECODERS)}, got {kind!r}")
    if kind == "broadcast":
        return SpatialBroadcastDecoder(image_shape, in_dim)
    return ConvDecoder(image_shape, in_dim) if uses_conv(image_shape) else MLPDecoder(image_shape, in_dim)
