"""Where does InfoAE lose the digit: in what its generator draws, or in carrying it over to real images? (issue 13)

InfoAE's clusters are C(E(x)). C and E learn the clusters only from generated images
x_g = D(G(z, c)), whose condition c they must recover (C_le); real images reach C only through E
and the self critic S. So the real images' clustering accuracy is bounded by two things, and this
script measures each after every epoch:

- **purity of the generator's conditions**: do images drawn under one condition c show one digit?
  An oracle classifier, trained here on labelled real MNIST (labels used for this diagnosis only),
  labels 5,000 generated images; the best one-to-one match of c to the oracle's labels is the
  purity. If it is low, the generator's categories are not digits and nothing downstream can cluster
  real digits well: the GAN / mutual-information part is the bottleneck.
- **transfer**: C(E(x_g)) recovering c on generated images against C(E(x)) clustering real test
  images. High on generated, low on real while purity is high: E does not carry the generated
  classes over to real images (S / Di's job).

Also the oracle's mean confidence on generated images (how digit-like they are).

    STUDY_DATA_ROOT=../shared/data python benchmarks/infoae_generated_classes.py --epochs 3 --out rows.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import time

import torch
from torch import nn

from trainables.datasets import load_dataset
from trainables.metrics.clustering import hungarian_accuracy
from trainables.trial import Trial


def train_oracle(images: torch.Tensor, labels: torch.Tensor, epochs: int = 3, seed: int = 0, classes: int = 10) -> nn.Module:
    """A small convolutional digit classifier on labelled real images (about 98-99% on MNIST's test set); with
    `classes` > 10 it also learns more labels than digits (an InfoAE's 30 conditions)."""
    if len(labels) and not 0 <= int(labels.min()) <= int(labels.max()) < classes:
        raise ValueError(f"train_oracle: labels must lie in 0..{classes - 1} for {classes} classes, "
                         f"got {int(labels.min())}..{int(labels.max())}")
    torch.manual_seed(seed)
    oracle = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, classes),
    )
    optimizer = torch.optim.Adam(oracle.parameters(), lr=1e-3)
    for _ in range(epochs):
        order = torch.randperm(len(images))
        for batch in order.split(128):
            loss = nn.functional.cross_entropy(oracle(images[batch]), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return oracle.eval()


@torch.no_grad()
def oracle_labels(oracle: nn.Module, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    probs = torch.cat([torch.softmax(oracle(chunk), dim=1) for chunk in images.split(1000)])
    return probs.argmax(dim=1), probs.max(dim=1).values


@torch.no_grad()
def generated_diagnosis(method, oracle: nn.Module, count: int, seed: int) -> dict[str, float]:
    """Purity of the generator's conditions under the oracle, C(E(x_g)) accuracy on c, oracle confidence."""
    was_training = method.training
    method.eval()
    device = next(method.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    noise = (torch.rand((count, 100), generator=generator) * 2 - 1).to(device)
    conditions = torch.randint(method.categories, (count,), generator=generator)
    codes = method._generate(noise, conditions.to(device))
    images = torch.sigmoid(method.decoder(codes))
    recovered = method.condition_logits(method.encoder(images)).argmax(dim=1).cpu()
    digits, confidence = oracle_labels(oracle.to(device), images)
    digits, confidence = digits.cpu(), confidence.cpu()
    method.train(was_training)
    digit_of_condition = [int(torch.bincount(digits[conditions == c], minlength=10).argmax()) for c in range(method.categories)]
    return {
        "digit_of_condition": digit_of_condition,
        "generated_purity": hungarian_accuracy(digits.numpy(), conditions.numpy()),
        "generated_recovered": (recovered == conditions).float().mean().item(),
        "generated_oracle_confidence": confidence.mean().item(),
        "generated_digits_used": int(torch.bincount(digits, minlength=10).gt(count * 0.02).sum()),
    }


@torch.no_grad()
def real_accuracy_by_generated_labels(method, test, digit_of_condition: list[int]) -> float:
    """Accuracy on real test images when each is labelled with the digit its cluster's condition draws
    (the oracle's majority label of the generated images of that condition): does a real image that E and C
    put in cluster c show the digit the generator draws for c? Near the Hungarian accuracy: the clusters
    mean the same on real and generated images; far below it: they do not carry over."""
    was_training = method.training
    method.eval()
    device = next(method.parameters()).device
    clusters = torch.cat([method.encode(chunk.to(device)).probs.argmax(dim=1).cpu() for chunk in test.images.split(1000)])
    method.train(was_training)
    predicted = torch.tensor(digit_of_condition)[clusters]
    return (predicted == test.labels).float().mean().item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--critic-on-codes", action="store_true", help="the self critic S judges codes without the image")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="an InfoAE option (JSON value)")
    parser.add_argument("--weight", action="append", default=[], metavar="NAME=VALUE", help="alpha, beta or gamma")
    parser.add_argument("--label", default="")
    parser.add_argument("--oracle", help="a file for the oracle's weights: read if it exists, else written after training")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    torch.set_num_threads(1)
    splits = load_dataset("mnist", root=os.environ.get("STUDY_DATA_ROOT"))
    started = time.perf_counter()
    if args.oracle and os.path.exists(args.oracle):
        oracle = train_oracle(splits.train.images[:0], splits.train.labels[:0], epochs=0)
        oracle.load_state_dict(torch.load(args.oracle))
    else:
        oracle = train_oracle(splits.train.images, splits.train.labels)
        if args.oracle:
            torch.save(oracle.state_dict(), args.oracle)
    test_digits, _ = oracle_labels(oracle, splits.test.images)  # the oracle trains and is scored on the CPU
    oracle_accuracy = (test_digits == splits.test.labels).float().mean().item()
    print(f"oracle: {oracle_accuracy:.4f} on the test set after {time.perf_counter() - started:.0f} s", flush=True)
    weights = {"alpha": 1.0, "beta": 1.0, "gamma": 0.4}
    weights.update({key: float(value) for key, value in (item.split("=", 1) for item in args.weight)})
    options = {"latent_dim": 32, "categories": 10, "lr": 2e-4, "critic_sees_image": not args.critic_on_codes}
    options.update({key: json.loads(value) for key, value in (item.split("=", 1) for item in args.option)})
    config = {"method": "infoae", "weighting": "fixed", "weights": weights, "seed": args.seed,
              "epochs": args.epochs, "batch_size": 64, "eval_size": 10000, "eval_every": 1, "options": options}
    trial = Trial(config, splits)
    started = time.perf_counter()
    with open(args.out, "a") as out:
        while not trial.finished:
            trained = trial.train_epoch()
            row = {"label": args.label, "seed": args.seed, "weights": weights, "options": options, "epoch": trial.epoch,
                   "seconds": round(time.perf_counter() - started, 1), "oracle_test_accuracy": round(oracle_accuracy, 4)}
            row.update({key: trained[key] for key in ("cluster_acc", "cluster_nmi", "probe_acc", "mi_x_y", "disc_acc/image", "disc_acc/pair",
                                                      "loss/class_encoded", "loss/class_generated") if key in trained})
            row.update(generated_diagnosis(trial.method, oracle, count=5000, seed=args.seed))
            row["real_acc_by_generated_labels"] = real_accuracy_by_generated_labels(trial.method, splits.test, row["digit_of_condition"])
            print(json.dumps(row), flush=True)
            out.write(json.dumps(row) + "\n")
            out.flush()


if __name__ == "__main__":
    main()
