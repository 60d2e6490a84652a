"""Does what InfoAE's generator draws carry over to real images, and through which network does it get lost?

Why: InfoAE clusters real images by C(E(x)), but E and C learn the conditions only from generated
images x_g = D(G(z, c)) (C_le asks C(E(x_g)) = c). By epoch 8 the generator draws one digit per
condition (purity up to 0.94, benchmarks/results/infoae_generated_classes.md), yet real images
cluster at 40-46%. Two explanations predict different things:

- the generated images are not like real ones (a classifier trained on them cannot read real digits):
  then no encoder trained on them could do better, and the gap is the generator's;
- they are, and E places real images elsewhere than the generated images of the same digit: then a
  fresh classifier trained on (x_g, c) reads real digits well while C(E(x)) does not, and the gap is E's.

So per trial checkpoint this script draws `--count` generated images with their conditions (network in
evaluation mode, a fixed seed), trains a fresh classifier on them (the small CNN of
benchmarks/infoae_generated_classes.py, `--epochs` epochs), and reports on the experiment's evaluation
images (the spec's split; labels are used for this diagnosis only):

- `transfer_acc`: the fresh classifier's predicted conditions on real images, scored as clusters (best
  one-to-one match to the digits, many-to-one when it names more conditions than there are digits);
- `cluster_acc`: C(E(x)) on the same images, the usual clustering accuracy;
- `agreement`: the share of real images that C(E(x)) puts in the condition the fresh classifier reads
  (both name conditions, so no matching is needed);
- `generated_acc` and `recovered`: the fresh classifier and C(E(.)) on 5,000 new generated images
  (how learnable the conditions are);
- `cycle_error`: ||E(D(z_g)) - z_g||^2 over the total variance of z_g (0: E inverts the generator's
  codes; 1: no better than the codes' mean);
- `purity` (with `--oracle`): the same CNN trained on the labelled real training images of the
  experiment's split (never the evaluation images) labels the generated images; purity is the best
  one-to-one match of conditions to its digits (many-to-one with more conditions than digits, as the clusters
  are scored); `purity_many_to_one` always takes each condition's majority digit, so 10 and 30 conditions
  can be set side by side (it can only grow with more conditions, as many-to-one clusters do). High purity
  with a low `transfer_acc` means the generated images look like digits to a reader of real images, yet what
  tells their conditions apart is not what tells real digits apart. `reader_acc` is the reader's own accuracy
  on the evaluation images;
- `relabelled_acc` (with `--oracle`): a fresh CNN trained, like the first, on the generated images but
  with the reader's digits as labels, read on the real images. It takes the conditions out of the
  question: low, and the generated images themselves (however digit-like to the reader) cannot teach
  real digits; high, and only the conditions' labelling fails to carry over;
- `spread_ratio` (with `--oracle`): how varied the generated images of a digit are (mean squared pixel
  distance to their digit's mean image, digits as the reader reads them) over the same for the real
  images (their labels). Below 1: each digit is drawn in fewer ways than real hands write it.

`--real-control SEEDS` prints, before the table, what the same CNN learns from `--count` real training
images of the first experiment's split (labelled, the same epochs) for each seed: the ceiling of the
budget, so a low `relabelled_acc` is the generated images' doing, not the classifier's.

    python results/reproduction/infoae_transfer.py <experiment>... [--match SUBSTRING] [--count 20000] [--epochs 3] \
        [--oracle oracle.pt] [--real-control 0,1]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root, for benchmarks/
from benchmarks.infoae_generated_classes import oracle_labels, train_oracle  # noqa: E402
from study.rescore import checkpointed_trials, restored_trials  # noqa: E402
from trainables.datasets import load_dataset  # noqa: E402
from trainables.methods.infoae import NOISE_DIM  # noqa: E402
from trainables.metrics.clustering import cluster_accuracy, hungarian_accuracy, many_to_one_accuracy  # noqa: E402


def drawn_inputs(method, count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """G's inputs behind `generated_sample(method, count, seed)`: the noise and the conditions, from a seeded generator."""
    device = next(method.parameters()).device
    generator = torch.Generator(device=device).manual_seed(seed)
    noise = torch.rand((count, NOISE_DIM), generator=generator, device=device) * 2 - 1
    return noise, torch.randint(method.categories, (count,), generator=generator, device=device)


@torch.no_grad()
def generated_sample(method, count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """`count` generated images, their conditions and codes z_g, drawn in evaluation mode from a seeded generator."""
    noise, conditions = drawn_inputs(method, count, seed)
    codes = method._generate(noise, conditions)
    images = torch.cat([torch.sigmoid(method.decoder(chunk)) for chunk in codes.split(1000)])
    return images, conditions, codes


@torch.no_grad()
def classified(method, images: torch.Tensor) -> torch.Tensor:
    """C(E(x)) for a batch of images, in chunks."""
    return torch.cat([method.condition_logits(method.encoder(chunk)).argmax(dim=1) for chunk in images.split(1000)])


def within_digit_spread(images: torch.Tensor, digits: torch.Tensor) -> float:
    """Mean squared pixel distance of an image to the mean image of its digit: how varied each digit is drawn."""
    flat = images.flatten(1).double()
    means = torch.stack([flat[digits == d].mean(dim=0) if (digits == d).any() else flat.new_zeros(flat.shape[1])
                         for d in range(int(digits.max()) + 1)])
    return (flat - means[digits]).square().sum(dim=1).mean().item()


def condition_purity(digits, conditions, classes: int = 10) -> float:
    """How well the conditions name digits: the best one-to-one match of conditions to the reader's digits, or
    many-to-one (each condition takes its majority digit) when there are more conditions than the reader's
    `classes`. Why: with 30 conditions a one-to-one match caps purity at 1/3 even when every condition draws one
    digit; the switch goes by the reader's classes, not the digits it happened to read, so ten conditions of
    which two draw the same digit (one digit never drawn) still lose the second condition's images."""
    conditions = np.asarray(conditions)
    if np.unique(conditions).size > classes:
        return many_to_one_accuracy(digits, conditions)
    return hungarian_accuracy(digits, conditions)


def transfer_row(method, real_images: torch.Tensor, real_labels: torch.Tensor, count: int, epochs: int, seed: int,
                 oracle: nn.Module | None = None) -> dict[str, float]:
    """The measurements of the module docstring for one trained InfoAE."""
    method.eval()
    images, conditions, _ = generated_sample(method, count, seed)
    fresh = train_oracle(images.cpu(), conditions.cpu(), epochs=epochs, seed=seed, classes=method.categories)
    read, _ = oracle_labels(fresh, real_images.cpu())
    clusters = classified(method, real_images).cpu()
    labels = real_labels.cpu().numpy()
    new_images, new_conditions, new_codes = generated_sample(method, 5000, seed + 1)
    generated_read, _ = oracle_labels(fresh, new_images.cpu())
    with torch.no_grad():
        inverted = torch.cat([method.encoder(chunk) for chunk in new_images.split(1000)])
    cycle = (inverted - new_codes).square().sum(dim=1).mean() / new_codes.var(dim=0).sum()
    row = {}
    if oracle is not None:
        digits, _ = oracle_labels(oracle, images.cpu())
        reader_classes = oracle[-1].out_features  # the reader's digits (10 for MNIST's)
        row["purity"] = condition_purity(digits.numpy(), conditions.cpu().numpy(), classes=reader_classes)
        row["purity_many_to_one"] = many_to_one_accuracy(digits.numpy(), conditions.cpu().numpy())
        relabelled = train_oracle(images.cpu(), digits, epochs=epochs, seed=seed, classes=reader_classes)
        row["relabelled_acc"] = (oracle_labels(relabelled, real_images.cpu())[0] == real_labels.cpu()).float().mean().item()
        row["reader_acc"] = (oracle_labels(oracle, real_images.cpu())[0] == real_labels.cpu()).float().mean().item()
        row["spread_ratio"] = within_digit_spread(images.cpu(), digits) / within_digit_spread(real_images.cpu(), real_labels.cpu())
    return row | {
        "transfer_acc": cluster_accuracy(labels, read.numpy()),
        "cluster_acc": cluster_accuracy(labels, clusters.numpy()),
        "agreement": (read == clusters).float().mean().item(),
        "generated_acc": (generated_read == new_conditions.cpu()).float().mean().item(),
        "recovered": (classified(method, new_images).cpu() == new_conditions.cpu()).float().mean().item(),
        "cycle_error": cycle.item(),
    }


def real_digit_reader(path: Path, dataset: dict) -> nn.Module:
    """The CNN trained on the labelled real training images of the experiment's split, cached in `path`
    (which must come from the same split: a reader that saw the evaluation images would flatter purity)."""
    if path.exists():
        oracle = train_oracle(torch.zeros(0, 1, 28, 28), torch.zeros(0, dtype=torch.long), epochs=0)
        oracle.load_state_dict(torch.load(path, weights_only=True))
        return oracle
    train = load_dataset(dataset["name"], **dataset.get("options", {})).train
    oracle = train_oracle(train.images, train.labels)
    torch.save(oracle.state_dict(), path)
    return oracle


def real_control(dataset: dict, count: int, epochs: int, seeds: list[int]) -> list[tuple[int, float]]:
    """The fresh classifier's accuracy on the evaluation images when it learns from `count` labelled real
    training images instead of generated ones (a seeded choice per seed)."""
    splits = load_dataset(dataset["name"], **dataset.get("options", {}))
    evaluation = splits.test.subset(int(dataset.get("eval_size", 2000)), seed=0)  # as the trials' DeviceData picks it
    results = []
    for seed in seeds:
        chosen = torch.randperm(len(splits.train.images), generator=torch.Generator().manual_seed(seed))[:count]
        reader = train_oracle(splits.train.images[chosen], splits.train.labels[chosen], epochs=epochs, seed=seed)
        results.append((seed, (oracle_labels(reader, evaluation.images)[0] == evaluation.labels).float().mean().item()))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiments", type=Path, nargs="+")
    parser.add_argument("--match", default="", help="only trial folders whose name contains this")
    parser.add_argument("--count", type=int, default=20000, help="generated images to train the fresh classifier on")
    parser.add_argument("--epochs", type=int, default=3, help="epochs of the fresh classifier")
    parser.add_argument("--oracle", type=Path, help="the real-digit reader's weights: read if the file exists, else trained and written")
    parser.add_argument("--real-control", default="", metavar="SEEDS", help="comma-separated seeds of the real-image control")
    args = parser.parse_args()
    if args.real_control:
        dataset, _ = checkpointed_trials(args.experiments[0], progress=lambda line: None)
        for seed, accuracy in real_control(dataset, args.count, args.epochs, [int(s) for s in args.real_control.split(",")]):
            print(f"real control, seed {seed}: the CNN trained on {args.count} labelled real training images for {args.epochs} epochs "
                  f"reads {accuracy:.3f} of the evaluation images\n")
    columns = ["transfer_acc", "cluster_acc", "agreement", "generated_acc", "recovered", "cycle_error"] + (["purity", "relabelled_acc", "spread_ratio", "reader_acc", "purity_many_to_one"] if args.oracle else [])
    print("| trial | epoch | " + " | ".join(columns) + " | seconds |")
    print("|---|---:|" + "---:|" * (len(columns) + 1))
    for experiment in args.experiments:
        dataset, checkpoints = checkpointed_trials(experiment, progress=lambda line: print(line, file=sys.stderr), match=args.match)
        oracle = real_digit_reader(args.oracle, dataset) if args.oracle else None
        for folder, config, trial, epoch in restored_trials(dataset, checkpoints):
            started = time.perf_counter()
            row = transfer_row(trial.method, trial.data.eval.images, trial.data.eval.labels, args.count, args.epochs, int(config["seed"]), oracle)
            cells = " | ".join(f"{row[column]:.3f}" for column in columns)
            print(f"| {folder.name} | {epoch} | {cells} | {time.perf_counter() - started:.0f} |", flush=True)


if __name__ == "__main__":
    main()
