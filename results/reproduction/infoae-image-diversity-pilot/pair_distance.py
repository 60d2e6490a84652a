"""Mean absolute pixel difference between pairs of real MNIST training images: random pairs and pairs of one digit.

Why: the mode-seeking term on images is weight / (mean |x_g - x_g'| / mean |n - n'|), with mean |n - n'| = 2/3 for
U(-1, 1) noise. These two numbers say what the term's value means: at 1 / (0.167 / (2/3)) = 4.0 two draws under
one condition differ as much as two random digits do, i.e. the condition no longer shows in the image.

    STUDY_DATA_ROOT=<data> python results/reproduction/infoae-image-diversity-pilot/pair_distance.py
"""

from __future__ import annotations

import os

import torch
import torchvision


def main() -> None:
    data = torchvision.datasets.MNIST(os.environ["STUDY_DATA_ROOT"], train=True, download=False)
    images, digits = data.data[:20000].float() / 255, data.targets[:20000]
    generator = torch.Generator().manual_seed(0)
    random_pairs = (images - images[torch.randperm(len(images), generator=generator)]).abs().mean().item()
    same_digit = []
    for digit in range(10):
        own = images[digits == digit]
        same_digit.append((own - own[torch.randperm(len(own), generator=generator)]).abs().mean().item())
    print(f"random pairs: {random_pairs:.3f}; pairs of one digit: {sum(same_digit) / 10:.3f} (20,000 training images)")


if __name__ == "__main__":
    main()
