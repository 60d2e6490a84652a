"""What InfoAE's generator draws for each condition: a picture per trial and how much the noise varies it.

Why: the generated images teach a fresh classifier only about 40% of real digits (infoae_transfer.py),
and pictures of them show one image per condition whatever the 100-d noise. This script measures that
collapse per trial checkpoint, so a change meant to cure it can be judged by a number:

- `condition_spread`: the generated images' mean squared pixel distance to their condition's mean image,
  over the same for the real evaluation images grouped by digit (labels used for this diagnosis only).
  0 means the noise changes nothing (one image per condition); 1 means each condition varies as much as
  a real digit does;
- `noise_share`: of the generated images' total pixel variance, the share within conditions (the rest
  lies between conditions). A generator that ignores its noise scores near 0;
- `code_spread`: the same as `condition_spread` in code space: G's codes z_g around their condition's mean,
  over E's codes of the real images around their digit's mean. Near 0 means the collapse is G's, not
  only the decoder's;
- `total_spread`: the generated images' mean squared distance to their overall mean image, over the same for
  the real images: what a statistic of a whole batch (a critic's minibatch standard deviation) sees. Ten
  distinct images, one per condition, already score near 1 while `condition_spread` is near 0, so such a
  statistic cannot tell a within-condition collapse from real variety.

With `--pictures DIR`, a grid per trial is written there: one row per condition (12 draws of the noise),
then a row of real evaluation images.

    python results/reproduction/infoae_samples.py <experiment>... [--match SUBSTRING] [--count 5000] [--pictures DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
import torch
from torchvision.utils import save_image

sys.path.insert(0, str(Path(__file__).resolve().parent))  # infoae_transfer beside this file
from infoae_transfer import generated_sample, within_digit_spread  # noqa: E402

from study.rescore import checkpointed_trials, restored_trials  # noqa: E402


def one_group(images: torch.Tensor) -> torch.Tensor:
    """Every image in group 0: `within_digit_spread` then measures the spread around the overall mean."""
    return torch.zeros(len(images), dtype=torch.long)


def sample_row(method, real_images: torch.Tensor, real_labels: torch.Tensor, count: int, seed: int = 0) -> dict[str, float]:
    """The four measures of the module docstring for one trained InfoAE (evaluation mode)."""
    method.eval()
    images, conditions, codes = generated_sample(method, count, seed)
    within = within_digit_spread(images.cpu(), conditions.cpu())
    around_mean = within_digit_spread(images.cpu(), one_group(images))
    device = next(method.parameters()).device
    real_codes = torch.cat([method.encoder(chunk.to(device)) for chunk in real_images.split(1000)])
    return {
        "condition_spread": within / within_digit_spread(real_images.cpu(), real_labels.cpu()),
        "noise_share": within / around_mean,
        "code_spread": within_digit_spread(codes.cpu(), conditions.cpu()) / within_digit_spread(real_codes.cpu(), real_labels.cpu()),
        "total_spread": around_mean / within_digit_spread(real_images.cpu(), one_group(real_images)),
    }


def picture(method, real_images: torch.Tensor, path: Path, per_row: int = 12, seed: int = 0) -> None:
    """Rows of generated images by condition, then a row of real images."""
    images, conditions, _ = generated_sample(method, 200 * method.categories, seed)
    rows = [images[conditions == c][:per_row] for c in range(method.categories)]
    save_image(torch.cat([*rows, real_images[:per_row]]).cpu(), path, nrow=per_row, pad_value=0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiments", type=Path, nargs="+")
    parser.add_argument("--match", default="", help="only trial folders whose name contains this")
    parser.add_argument("--count", type=int, default=5000, help="generated images per trial")
    parser.add_argument("--pictures", type=Path, help="write a grid per trial into this folder")
    args = parser.parse_args()
    if args.pictures:
        args.pictures.mkdir(parents=True, exist_ok=True)
    rows = []
    for experiment in args.experiments:
        dataset, checkpoints = checkpointed_trials(experiment, match=args.match)
        for folder, _, trial, epoch in restored_trials(dataset, checkpoints):
            real = trial.data.eval
            with torch.no_grad():
                row = sample_row(trial.method, real.images, real.labels, args.count)
                if args.pictures:
                    picture(trial.method, real.images, args.pictures / f"{folder.name}-epoch{epoch}.png")
            rows.append({"trial": folder.name, "epoch": epoch, **row})
            print(f"{folder.name} epoch {epoch}: " + ", ".join(f"{k} {v:.3f}" for k, v in row.items()), flush=True)
    table = pd.DataFrame(rows)
    print("\n| " + " | ".join(table.columns) + " |\n|" + "---|" * len(table.columns))
    for row in table.itertuples(index=False):
        print("| " + " | ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row) + " |")


if __name__ == "__main__":
    main()
