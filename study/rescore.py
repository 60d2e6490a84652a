"""Score finished trials again, from their last checkpoints, with this code's metric suite.

Why: a metric added or corrected after a study ran (TC(y; z) of hybrid codes, for one) would
otherwise need every trial trained again. Each trial folder of a Tune experiment holds its config
(`params.json`) and checkpoints (`checkpoint_*/trial_state.pt`); the experiment's `study_spec.json`
names the dataset, which is loaded once. The trained model is rebuilt from the newest checkpoint
and evaluated exactly as at the end of training (same evaluation split, same metric seeds).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from trainables.datasets import load_dataset
from trainables.evaluation import evaluate
from trainables.trial import CHECKPOINT_FILE, Trial


class RescoreError(ValueError):
    """The folder is not a local experiment with checkpoints to score."""


def trial_folders(experiment: Path) -> list[Path]:
    """The experiment's trial folders (those with a params.json), in name order."""
    return sorted(path.parent for path in experiment.glob("*/params.json"))


def newest_checkpoint(folder: Path) -> Path | None:
    checkpoints = sorted(folder.glob(f"checkpoint_*/{CHECKPOINT_FILE}"))
    return checkpoints[-1] if checkpoints else None


def checkpointed_trials(experiment: str | Path, progress: Callable[[str], None] = print,
                        match: str = "") -> tuple[dict[str, Any], list[tuple[Path, Path]]]:
    """The experiment's dataset entry and its trials (folder names containing `match`) with their newest
    checkpoints; trials without one are reported and left out."""
    experiment = Path(experiment)
    spec_file = experiment / "study_spec.json"
    if not spec_file.is_file():
        raise RescoreError(f"{experiment}: no study_spec.json here; give the experiment folder `study run` made "
                           "(a local path: checkpoints are read from disk)")
    folders = [folder for folder in trial_folders(experiment) if match in folder.name]
    scorable = [(folder, newest_checkpoint(folder)) for folder in folders]
    missing = [folder.name for folder, checkpoint in scorable if checkpoint is None]
    found = [(folder, checkpoint) for folder, checkpoint in scorable if checkpoint is not None]
    if not found:
        raise RescoreError(f"{experiment}: none of its {len(folders)} trial folder(s) holds a checkpoint_*/{CHECKPOINT_FILE}")
    for name in missing:
        progress(f"skipped {name}: no checkpoint")
    return json.loads(spec_file.read_text())["dataset"], found


def restored_trials(dataset: dict[str, Any], checkpoints: list[tuple[Path, Path]]) -> Iterator[tuple[Path, dict[str, Any], Trial, int]]:
    """Each trial rebuilt from its checkpoint: (folder, config, trial, the checkpoint's epoch). The
    dataset is loaded once and its device copy shared by all trials."""
    splits = load_dataset(dataset["name"], **dataset.get("options", {}))
    shared = None
    for folder, checkpoint in checkpoints:
        config = json.loads((folder / "params.json").read_text())
        trial = Trial(config, splits, device_data=shared)
        shared = trial.data
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
        trial.load_state(state)
        yield folder, config, trial, state["epoch"]


def rescore_experiment(experiment: str | Path, progress: Callable[[str], None] = print) -> pd.DataFrame:
    """One row per trial with a checkpoint: its identity, the checkpoint's epoch, and every metric."""
    dataset, checkpoints = checkpointed_trials(experiment, progress)
    rows = []
    started = time.perf_counter()
    for number, (folder, config, trial, epoch) in enumerate(restored_trials(dataset, checkpoints), start=1):
        metrics = evaluate(trial.method, trial.data.eval)
        rows.append({"trial": folder.name, "dataset": dataset["name"], "method": config["method"], "weighting": config.get("weighting", "fixed"),
                     "seed": config["seed"], "epoch": epoch,
                     **{f"weight/{name}": value for name, value in config.get("weights", {}).items()}, **metrics})
        progress(f"scored {number}/{len(checkpoints)}: {folder.name} (epoch {epoch}) in {time.perf_counter() - started:.0f} s")
        started = time.perf_counter()
    return pd.DataFrame(rows)


SHOWN = ("cluster_acc", "recon_bce", "mi_x_y", "mi_x_z", "tc", "tc_y_z", "mig")  # printed by default: the CSV has every metric


def show_and_save(table: pd.DataFrame, out: Path, metrics: list[str] | None = None) -> None:
    """Write the whole table to `out` (CSV) and print each trial's identity with the chosen metrics."""
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
    unknown = [m for m in metrics or [] if m not in table.columns]
    if unknown:
        print(f"note: no column {', '.join(unknown)} (columns: {', '.join(table.columns)})", file=sys.stderr)
    shown = ["method", "weighting", "seed", "epoch", *[c for c in table.columns if c.startswith("weight/")],
             *[m for m in (metrics or SHOWN) if m in table.columns]]
    with pd.option_context("display.width", 200, "display.float_format", "{:.4g}".format):
        print(table[shown].to_string(index=False))
    print(f"table: {out}")
