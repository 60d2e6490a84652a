"""What InfoAE's conditions draw besides their digit: unreadable drawings, the noise's choice, or a style?

Why: a reader of real digits (98.4% on real images) reads about one generated image in five as another digit
than its condition's majority, with 10 conditions or 30, while C reads the condition back at 98-100%
(results/reproduction/infoae-categories-pilot). Three explanations predict different things:

- the off-digit images are poor drawings that the reader guesses at: its confidence is lower on them than on
  the condition's on-digit images (`confidence_on`, `confidence_off`; `confidence_real` on real images);
- G's noise picks the digit inside a condition (the mode-seeking term rewards distant codes for two draws of
  the noise, and another digit is far): a logistic regression from the 100 noise inputs to "off-digit" beats
  the majority rate inside each condition (`noise_probe` against `noise_base`, 5-fold cross-validated, pooled
  over the conditions with at least 50 off-digit images). G is deterministic, so some noise always lies behind
  an off-digit image; the probe asks whether that noise fills a region one linear boundary cuts off (G splits
  the noise space between digits, a second, hidden category) rather than scattered points. `noise_shuffled`
  is the same probe with the off-digit marks shuffled inside each condition: what the probe scores on labels
  the noise cannot predict (it should sit at or below `noise_base`);
- the condition draws a style shared across its digits (slant, width, ink): an off-digit image's style,
  as z-scores against real images of the digit the reader reads, follows its condition's on-digit images'
  style (`style_r_*`: the correlation over conditions of the two mean z-scores, conditions with at least 20
  off-digit images; `style_between_*`: how much of the on-digit images' z-scored style the conditions explain,
  eta squared; near 0 and the conditions hold no style to share).

Styles, from the image moments (pixel intensities as mass): `ink` (total intensity), `slant` (the shear
mu11 / mu02) and `width` (the horizontal standard deviation). Real images are the experiment's evaluation
split, labelled; the reader is `--oracle` (as in infoae_transfer.py; trained on the other training images).

    python results/reproduction/infoae_condition_makeup.py <experiment>... --oracle oracle.pt [--match SUBSTRING] [--count 20000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

sys.path.insert(0, str(Path(__file__).resolve().parent))  # this folder, for infoae_transfer and cluster_anatomy
from cluster_anatomy import explained_share  # noqa: E402
from infoae_transfer import drawn_inputs, generated_sample, real_digit_reader  # noqa: E402
from pilot_arms import paired_difference  # noqa: E402

from benchmarks.infoae_generated_classes import oracle_labels  # noqa: E402
from study.rescore import checkpointed_trials, restored_trials  # noqa: E402

STYLES = ("ink", "slant", "width")
# the summary's pairs over trials: (measure, against), "0" for a one-sample test
PAIRS = (("noise_probe", "noise_base"), ("noise_shuffled", "noise_base"), ("confidence_on", "confidence_off"),
         *((f"style_r_{name}", "0") for name in STYLES))


def styles(images: torch.Tensor) -> pd.DataFrame:
    """Per image: total ink, slant (mu11 / mu02, a shear) and width (horizontal standard deviation)."""
    mass = images.flatten(1).double().cpu()
    height, width = images.shape[-2:]
    rows = torch.arange(height, dtype=torch.float64).repeat_interleave(width)
    cols = torch.arange(width, dtype=torch.float64).repeat(height)
    total = mass.sum(dim=1).clamp_min(1e-9)
    cy, cx = (mass * rows).sum(dim=1) / total, (mass * cols).sum(dim=1) / total
    dy, dx = rows - cy[:, None], cols - cx[:, None]
    mu02 = (mass * dy * dy).sum(dim=1) / total
    mu11 = (mass * dx * dy).sum(dim=1) / total
    mu20 = (mass * dx * dx).sum(dim=1) / total
    return pd.DataFrame({"ink": total.numpy(), "slant": (mu11 / mu02.clamp_min(1e-9)).numpy(), "width": mu20.sqrt().numpy()})


def z_scored(frame: pd.DataFrame, digits: np.ndarray, reference: pd.DataFrame, reference_digits: np.ndarray) -> pd.DataFrame:
    """Each style as a z-score against the reference images of the same digit (the digit's own mean and spread)."""
    stats = reference.groupby(reference_digits).agg(["mean", "std"])
    out = frame.copy()
    for style in STYLES:
        out[style] = (frame[style].to_numpy() - stats[(style, "mean")].reindex(digits).to_numpy()) / stats[(style, "std")].reindex(digits).to_numpy()
    return out


def noise_probe(noise: np.ndarray, off: np.ndarray, conditions: np.ndarray, least: int = 50,
                shuffle_seed: int | None = None) -> tuple[float, float, int]:
    """Cross-validated accuracy of a logistic regression from the noise to `off` inside each condition, pooled by
    images, against the majority rate (the accuracy of always guessing the commoner side); and how many conditions.
    With `shuffle_seed`, `off` is first permuted inside each condition (the control)."""
    shuffler = np.random.default_rng(shuffle_seed)
    hits = base = count = probed = 0
    for condition in np.unique(conditions):
        inside = conditions == condition
        marks = off[inside] if shuffle_seed is None else shuffler.permutation(off[inside])
        if min(marks.sum(), (~marks).sum()) < least:
            continue
        scores = cross_val_score(LogisticRegression(max_iter=2000), noise[inside], marks, cv=5)
        hits += scores.mean() * inside.sum()
        base += max(marks.mean(), 1 - marks.mean()) * inside.sum()
        count += inside.sum()
        probed += 1
    if not count:
        return float("nan"), float("nan"), 0
    return float(hits / count), float(base / count), probed


def makeup_row(method, real_images: torch.Tensor, real_labels: torch.Tensor, oracle, count: int, seed: int) -> dict[str, float]:
    """The measurements of the module docstring for one trained InfoAE."""
    method.eval()
    images, conditions, _ = generated_sample(method, count, seed)
    noise, _ = drawn_inputs(method, count, seed)
    digits, confidence = (t.numpy() for t in oracle_labels(oracle, images.cpu()))
    _, real_confidence = oracle_labels(oracle, real_images.cpu())
    conditions = conditions.cpu().numpy()
    majority = pd.Series(digits).groupby(conditions).agg(lambda d: d.value_counts().idxmax())
    off = digits != majority.reindex(conditions).to_numpy()
    probe, base, probed = noise_probe(noise.cpu().numpy(), off, conditions)
    shuffled, _, _ = noise_probe(noise.cpu().numpy(), off, conditions, shuffle_seed=seed)
    real_labels = real_labels.cpu().numpy()
    style = z_scored(styles(images), digits, styles(real_images), real_labels)
    row = {"off_share": float(off.mean()), "confidence_on": float(confidence[~off].mean()), "confidence_off": float(confidence[off].mean()),
           "confidence_real": real_confidence.mean().item(), "noise_probe": probe, "noise_base": base, "noise_shuffled": shuffled, "probed": probed}
    kept = [c for c in np.unique(conditions) if (off & (conditions == c)).sum() >= 20 and (~off & (conditions == c)).sum() >= 20]
    for name in STYLES:
        on_means = [style[name][~off & (conditions == c)].mean() for c in kept]
        off_means = [style[name][off & (conditions == c)].mean() for c in kept]
        row[f"style_r_{name}"] = float(np.corrcoef(on_means, off_means)[0, 1]) if len(kept) >= 3 else float("nan")
        row[f"style_between_{name}"] = explained_share(style[name][~off].to_numpy(), conditions[~off])
    row["styled"] = len(kept)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiments", type=Path, nargs="+")
    parser.add_argument("--match", default="", help="only trial folders whose name contains this")
    parser.add_argument("--count", type=int, default=20000, help="generated images per trial")
    parser.add_argument("--oracle", type=Path, required=True, help="the real-digit reader's weights: read if the file exists, else trained and written")
    args = parser.parse_args()
    columns, rows = None, []
    for experiment in args.experiments:
        dataset, checkpoints = checkpointed_trials(experiment, progress=lambda line: print(line, file=sys.stderr), match=args.match)
        oracle = real_digit_reader(args.oracle, dataset)
        for folder, config, trial, epoch in restored_trials(dataset, checkpoints):
            started = time.perf_counter()
            row = makeup_row(trial.method, trial.data.eval.images, trial.data.eval.labels, oracle, args.count, int(config["seed"]))
            if columns is None:
                columns = list(row)
                print("| trial | epoch | " + " | ".join(columns) + " | seconds |")
                print("|---|---:|" + "---:|" * (len(columns) + 1))
            cells = " | ".join(f"{row[c]:.3f}" if isinstance(row[c], float) else str(row[c]) for c in columns)
            print(f"| {folder.name} | {epoch} | {cells} | {time.perf_counter() - started:.0f} |", flush=True)
            rows.append(row)
    if len(rows) > 1:
        print(summary(pd.DataFrame(rows)))


def summary(table: pd.DataFrame) -> str:
    """Each pair of PAIRS over the trials: the mean difference, its 95% interval and p (paired t over trials)."""
    lines = ["", f"Over {len(table)} trials (paired t; style correlations against 0):", "",
             "| measure | minus | mean difference | 95% interval | p |", "|---|---|---:|---|---:|"]
    for measure, against in PAIRS:
        values = table[measure].dropna()
        if len(values) < 2:  # one trial has no spread to test against
            lines.append(f"| {measure} | {against} | {len(values)} trial(s): no interval | | |")
            continue
        base = np.zeros(len(values)) if against == "0" else table.loc[values.index, against]
        mean, low, high, p = paired_difference(values.to_numpy(), np.asarray(base, dtype=float))
        lines.append(f"| {measure} | {against} | {mean:+.3f} | {low:+.3f} to {high:+.3f} | {p:.2g} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
