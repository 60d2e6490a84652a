"""Pictures of a trained model, so a reader sees what a score means.

Two PNGs per trial, written at its last epoch (torchvision's image utilities):
- `reconstructions.png`: a row of evaluation images above a row of their reconstructions;
- `traversals.png`: one row per code dimension (up to `max_latents`), the decoded image as
  that dimension sweeps from its 5th to its 95th percentile over the evaluation images while
  the others keep the values of one image's code. Percentiles rather than a fixed [-2, 2]
  make the same picture work for Gaussian latents, cluster probabilities and unbounded codes.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torchvision.utils import save_image

from .methods import Method

RECONSTRUCTIONS = "reconstructions.png"
TRAVERSALS = "traversals.png"


@torch.no_grad()
def write_pictures(method: Method, images: torch.Tensor, folder: str | Path, count: int = 8, steps: int = 9, max_latents: int = 10) -> list[Path]:
    """Write both pictures into `folder` (created if needed); returns their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    was_training = method.training
    method.eval()
    try:
        shown = images[:count]
        reconstructed = torch.sigmoid(method.decode(method.encode(shown).code))
        save_image(torch.cat([shown, reconstructed]).cpu(), folder / RECONSTRUCTIONS, nrow=len(shown), padding=1, pad_value=0.5)

        codes = method.encode(images).code
        low, high = torch.quantile(codes, 0.05, dim=0), torch.quantile(codes, 0.95, dim=0)
        base = codes[0]
        fractions = torch.linspace(0, 1, steps, device=codes.device)
        rows = []
        for k in range(min(codes.shape[1], max_latents)):
            sweep = base.repeat(steps, 1)
            sweep[:, k] = low[k] + fractions * (high[k] - low[k])
            rows.append(torch.sigmoid(method.decode(sweep)))
        save_image(torch.cat(rows).cpu(), folder / TRAVERSALS, nrow=steps, padding=1, pad_value=0.5)
    finally:
        method.train(was_training)
    return [folder / RECONSTRUCTIONS, folder / TRAVERSALS]
