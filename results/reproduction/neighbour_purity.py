"""How often an image's nearest training images by pixel distance show its own digit (labels read for this count only).

Why: the AAE's neighbour term (`cluster_neighbour_weight`) asks each image's cluster to agree with one of its k nearest
training images by pixel distance, without labels; the share of those neighbours that show the same digit bounds how
pure clusters that follow them can be. Uses the same `pixel_neighbours` as the term, on the training split a spec sees.

Usage (data root from STUDY_DATA_ROOT, as `study run`):

    python results/reproduction/neighbour_purity.py --dataset mnist --validation 10000 --k 1 5 10
"""

from __future__ import annotations

import argparse
import time

import torch

from trainables.datasets import load_dataset
from trainables.methods.base import pixel_neighbours


def neighbour_purity(neighbours: torch.Tensor, labels: torch.Tensor, k: int) -> float:
    """The share of the first k neighbours of every image whose label is the image's own."""
    return float((labels[neighbours[:, :k]] == labels[:, None]).float().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--validation", type=int, default=0, help="training images held out, as the dataset option of that name")
    parser.add_argument("--k", type=int, nargs="+", default=[1, 5, 10])
    args = parser.parse_args()
    options = {"validation": args.validation} if args.validation else {}
    train = load_dataset(args.dataset, **options).train
    started = time.perf_counter()
    neighbours = pixel_neighbours(train.images, max(args.k))
    print(f"{args.dataset}, {len(train.images)} training images: neighbours found in {time.perf_counter() - started:.0f} s "
          f"({torch.get_num_threads()} threads)")
    for k in args.k:
        print(f"- {k} nearest: {100 * neighbour_purity(neighbours, train.labels, k):.1f}% show the image's digit")


if __name__ == "__main__":
    main()
