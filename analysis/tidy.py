"""Turn an experiment directory into the tidy table: a row per trial and epoch.

Reads only JSON (Tune's `params.json` and `result.json` in each trial directory), never
pickles. Columns: `trial_id`, `status`, `epoch`, the trial config flattened as `config/...`
(e.g. `config/weights/gamma`), then every reported metric. Status of a trial:
`error` (Tune recorded an error), `diverged` (a non-finite loss ended it), `finished`
(reached the configured epochs), `stopped` (ended earlier: early-stopped by the scheduler,
or not yet finished).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

log = logging.getLogger(__name__)

TUNE_BOOKKEEPING = (
    "config", "date", "timestamp", "pid", "hostname", "node_ip", "time_since_restore",
    "iterations_since_restore", "timesteps_since_restore", "timesteps_total", "episodes_total",
    "experiment_tag", "checkpoint_dir_name", "should_checkpoint", "done",
)


def _trial_status(rows: list[dict], config: dict, trial_dir: Path) -> str:
    if (trial_dir / "error.txt").exists():
        return "error"
    if rows and rows[-1].get("diverged"):
        return "diverged"
    if rows and rows[-1].get("training_iteration", 0) >= config.get("epochs", float("inf")):
        return "finished"
    return "stopped"


def _read_trial(trial_dir: Path) -> pd.DataFrame | None:
    params_file, result_file = trial_dir / "params.json", trial_dir / "result.json"
    if not params_file.exists():
        return None
    try:
        config = json.loads(params_file.read_text())
        rows = [json.loads(line) for line in result_file.read_text().splitlines() if line.strip()] if result_file.exists() else []
    except (OSError, json.JSONDecodeError) as error:
        log.warning("skipping damaged trial directory %s: %s", trial_dir, error)
        return None
    status = _trial_status(rows, config, trial_dir)
    trial_id = rows[0]["trial_id"] if rows else trial_dir.name
    flat_config = pd.json_normalize(config, sep="/").add_prefix("config/")
    if not rows:  # a trial that never reported still counts as an outcome
        frame = flat_config.assign(trial_id=trial_id, status=status, epoch=0)
    else:
        metrics = pd.DataFrame(rows).drop(columns=[c for c in TUNE_BOOKKEEPING if c in rows[0]], errors="ignore")
        # `epoch` is Tune's training_iteration (one step = one epoch); a reported key of that name would clash
        metrics = metrics.drop(columns=["epoch"], errors="ignore").rename(columns={"training_iteration": "epoch"}).drop(columns=["trial_id"], errors="ignore")
        frame = pd.concat([flat_config.loc[flat_config.index.repeat(len(metrics))].reset_index(drop=True), metrics], axis=1)
        frame.insert(0, "trial_id", trial_id)
        frame.insert(1, "status", status)
    frame["trial_dir"] = trial_dir.name
    return frame


def load_experiment(*paths: str | Path) -> pd.DataFrame:
    """The tidy frame of one or more local experiment directories."""
    frames = []
    for path in paths:
        root = Path(path).expanduser()
        if not root.is_dir():
            raise FileNotFoundError(f"no experiment directory at {root}")
        trial_dirs = sorted(p for p in root.iterdir() if p.is_dir() and (p / "params.json").exists())
        if not trial_dirs:
            raise ValueError(f"{root} holds no trial directories (params.json); is it a Tune experiment?")
        frames += [f for f in map(_read_trial, trial_dirs) if f is not None]
    frame = pd.concat(frames, ignore_index=True)
    leading = ["trial_id", "status", "epoch"]
    config_columns = sorted(c for c in frame.columns if c.startswith("config/"))
    rest = [c for c in frame.columns if c not in leading and c not in config_columns]
    return frame[leading + config_columns + rest].sort_values(["trial_id", "epoch"], ignore_index=True)


def final_rows(tidy: pd.DataFrame) -> pd.DataFrame:
    """The last reported epoch of every trial."""
    return tidy.sort_values("epoch").groupby("trial_id", as_index=False).tail(1).sort_values("trial_id", ignore_index=True)
