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
from collections.abc import Callable
from pathlib import Path

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


def rescore_experiment(experiment: str | Path, progress: Callable[[str], None] = print) -> pd.DataFrame:
    """One row per trial with a checkpoint: its identity, the checkpoint's epoch, and every metric."""
    experiment = Path(experiment)
    spec_file = experiment / "study_spec.json"
    if not spec_file.is_file():
        raise RescoreError(f"{experiment}: no study_spec.json here; give the experiment folder `study run` made "
                           "(a local path: checkpoints are read from disk)")
    folders = trial_folders(experiment)
    scorable = [(folder, newest_checkpoint(folder)) for folder in folders]
    missing = [folder.name for folder, checkpoint in scorable if checkpoint is None]
    scorable = [(folder, checkpoint) for folder, checkpoint in scorable if checkpoint is not None]
    if not scorable:
        raise RescoreError(f"{experiment}: none of its {len(folders)} trial folder(s) holds a checkpoint_*/{CHECKPOINT_FILE}")
    for name in missing:
        progress(f"skipped {name}: no checkpoint")
    dataset = json.loads(spec_file.read_text())["dataset"]
    splits = load_dataset(dataset["name"], **dataset.get("options", {}))
    rows, shared = [], None
    for number, (folder, checkpoint) in enumerate(scorable, start=1):
        started = time.perf_counter()
        config = json.loads((folder / "params.json").read_text())
        trial = Trial(config, splits, device_data=shared)
        shared = trial.data
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
        trial.load_state(state)
        metrics = evaluate(trial.method, trial.data.eval)
        rows.append({"trial": folder.name, "dataset": dataset["name"], "method": config["method"], "weighting": config.get("weighting", "fixed"),
                     "seed": config["seed"], "epoch": state["epoch"],
                     **{f"weight/{name}": value for name, value in config.get("weights", {}).items()}, **metrics})
        progress(f"scored {number}/{len(scorable)}: {folder.name} (epoch {state['epoch']}) in {time.perf_counter() - started:.0f} s")
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
