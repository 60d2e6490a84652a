"""dSprites: 2D shapes with five known generative factors (Matthey et al., 2017).

Two sources with the same factor layout:
- `generate_dsprites`: a procedural renderer of the dSprites factors (shape, scale, orientation,
  position x, position y), exact and deterministic, at any resolution and on any sub-grid of
  the factor values. It needs no files, so it is the embedded default for CPU work.
- `load_dsprites_npz`: the official `dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz` for users
  who have it.

The procedural shapes follow dSprites' conventions (binary sprites; scale 0.5..1; orientation
0..2pi in 40 steps, so squares and ellipses repeat themselves under rotation as in the
original) but are not pixel-identical to it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from .base import DataError, ImageSet, Splits

FACTOR_NAMES = ("shape", "scale", "orientation", "position_x", "position_y")
FULL_SIZES = (3, 6, 40, 32, 32)
SHAPES = ("square", "ellipse", "heart")


def _grid_indices(factor: str, full: int, count: int) -> np.ndarray:
    """Evenly spaced indices of `count` values out of `full`; orientation is circular."""
    if not 1 <= count <= full:
        raise DataError(f"dsprites: {factor} takes 1..{full} values, got {count}")
    if factor == "orientation":
        return (np.arange(count) * full) // count
    return np.unique(np.round(np.linspace(0, full - 1, count)).astype(int))


def factor_grid(sizes: dict[str, int] | None) -> list[np.ndarray]:
    """The full-grid indices chosen for each factor, in FACTOR_NAMES order."""
    sizes = dict(sizes or {})
    unknown = set(sizes) - set(FACTOR_NAMES)
    if unknown:
        raise DataError(f"dsprites: unknown factor(s) {sorted(unknown)}; factors are {list(FACTOR_NAMES)}")
    return [
        _grid_indices(name, full, int(sizes.get(name, full)))
        for name, full in zip(FACTOR_NAMES, FULL_SIZES)
    ]


def _inside(shape: int, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Whether shape-local coordinates (unit half-size) fall inside the sprite."""
    if SHAPES[shape] == "square":
        return (u.abs() <= 0.8) & (v.abs() <= 0.8)
    if SHAPES[shape] == "ellipse":
        return (u / 1.0) ** 2 + (v / 0.5) ** 2 <= 1.0
    # heart: the implicit curve (x^2 + y^2 - 1)^3 - x^2 y^3 <= 0, image y pointing down
    x, y = u * 1.25, -v * 1.25 + 0.15
    return (x**2 + y**2 - 1) ** 3 - x**2 * y**3 <= 0


def render(factor_values: torch.Tensor, resolution: int) -> torch.Tensor:
    """Render rows of (shape index, scale, angle, pos_x, pos_y) as binary N x 1 x R x R images."""
    coords = (torch.arange(resolution, dtype=torch.float32) + 0.5) / resolution
    py, px = torch.meshgrid(coords, coords, indexing="ij")
    images = torch.zeros(factor_values.shape[0], 1, resolution, resolution)
    half_size = 0.2
    for shape in range(len(SHAPES)):
        rows = (factor_values[:, 0] == shape).nonzero().flatten()
        if rows.numel() == 0:
            continue
        values = factor_values[rows]
        scale, angle = values[:, 1, None, None], values[:, 2, None, None]
        cx = 0.2 + 0.6 * values[:, 3, None, None]
        cy = 0.2 + 0.6 * values[:, 4, None, None]
        dx, dy = px - cx, py - cy
        cos, sin = torch.cos(angle), torch.sin(angle)
        u = (cos * dx + sin * dy) / (half_size * scale)
        v = (-sin * dx + cos * dy) / (half_size * scale)
        images[rows, 0] = _inside(shape, u, v).float()
    return images


def generate_dsprites(
    resolution: int = 64,
    sizes: dict[str, int] | None = None,
    test_fraction: float = 0.1,
    split_seed: int = 0,
) -> Splits:
    """Every combination of the chosen factor values, rendered; a fixed random test split.

    sizes: values per factor (e.g. {"orientation": 4, "position_x": 8}); omitted factors keep
    their full dSprites count. Factor labels are indices into the chosen sub-grid.
    """
    if resolution < 8:
        raise DataError(f"dsprites: resolution must be at least 8, got {resolution}")
    if not 0.0 < test_fraction < 1.0:
        raise DataError(f"dsprites: test_fraction must be in (0, 1), got {test_fraction}")
    grid = factor_grid(sizes)
    counts = [len(g) for g in grid]
    factors = torch.cartesian_prod(*[torch.arange(c) for c in counts]).reshape(-1, len(counts))
    full_index = torch.stack([torch.as_tensor(grid[f])[factors[:, f]] for f in range(len(grid))], dim=1)
    values = torch.stack(
        [
            full_index[:, 0].float(),
            0.5 + 0.1 * full_index[:, 1].float(),
            2 * math.pi * full_index[:, 2].float() / 40,
            full_index[:, 3].float() / 31,
            full_index[:, 4].float() / 31,
        ],
        dim=1,
    )
    images = torch.cat([render(chunk, resolution) for chunk in values.split(8192)])
    full = ImageSet(
        name="dsprites",
        images=images,
        labels=factors[:, 0].clone(),
        factors=factors,
        factor_names=FACTOR_NAMES,
        factor_sizes=tuple(counts),
        num_classes=counts[0],
    )
    return _split(full, test_fraction, split_seed, {"grid": {n: g.tolist() for n, g in zip(FACTOR_NAMES, grid)}})


def load_dsprites_npz(
    path: str | Path, sizes: dict[str, int] | None = None, test_fraction: float = 0.1, split_seed: int = 0
) -> Splits:
    """The official dSprites archive (keys imgs, latents_classes), optionally on a sub-grid."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataError(
            f"dsprites: no archive at {path}. Get dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz from "
            "https://github.com/deepmind/dsprites-dataset, or use the procedural generator (no path)."
        )
    with np.load(path, allow_pickle=False) as archive:
        missing = {"imgs", "latents_classes"} - set(archive.files)
        if missing:
            raise DataError(f"dsprites: {path} lacks the arrays {sorted(missing)}")
        classes = archive["latents_classes"][:, 1:]  # column 0 is colour, always white
        grid = factor_grid(sizes)
        keep = np.ones(len(classes), dtype=bool)
        for f, chosen in enumerate(grid):
            keep &= np.isin(classes[:, f], chosen)
        imgs = archive["imgs"][keep]
        classes = classes[keep]
    factors = np.stack([np.searchsorted(grid[f], classes[:, f]) for f in range(len(grid))], axis=1)
    full = ImageSet(
        name="dsprites",
        images=torch.from_numpy(imgs.astype(np.float32)).unsqueeze(1),
        labels=torch.from_numpy(factors[:, 0]).long(),
        factors=torch.from_numpy(factors).long(),
        factor_names=FACTOR_NAMES,
        factor_sizes=tuple(len(g) for g in grid),
        num_classes=len(grid[0]),
    )
    return _split(full, test_fraction, split_seed, {"source": str(path)})


def _split(full: ImageSet, test_fraction: float, seed: int, info: dict) -> Splits:
    order = torch.randperm(len(full), generator=torch.Generator().manual_seed(seed))
    n_test = max(1, int(round(test_fraction * len(full))))
    return Splits(train=full.take(order[n_test:].sort().values), test=full.take(order[:n_test].sort().values), info=info)
