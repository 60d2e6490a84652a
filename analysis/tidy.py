"""Turn experiment directories into the tidy table: a row per trial and epoch.

An experiment is a local folder or any URI Ray Tune's storage takes (`s3://`, `gs://`,
`file://`, ...), read through pyarrow's file systems, as Tune writes it. Only JSON is read
(each trial's `params.json` and `result.json`, and Tune's `experiment_state-*.json`), never
pickles, so a results path cannot run code.

Columns: `experiment`, `trial_id`, `status`, `epoch`, the trial config flattened as
`config/...` (e.g. `config/weights/gamma`), then every reported metric, and `error` (the last exception Tune recorded
for the trial: what ended a failed trial, or what a retried one recovered from). Every trial is kept,
labelled by how it ended:
- `error`: the trial raised and was not recovered by its retries (Tune's state says ERROR; without
  the state, an error file and no finish);
- `diverged`: a non-finite loss ended it; its last metrics are kept;
- `finished`: it reached the configured epochs;
- `early_stopped`: Tune terminated it before that (the ASHA scheduler stopped it at a rung);
- `unfinished`: it had not ended when the experiment was last saved (driver killed, still
  running), or Tune's experiment state is missing so an early stop cannot be told apart.
A trial directory whose files cannot be parsed is skipped with a warning, and listed in
`frame.attrs["skipped"]` as (directory, reason), so a report can say what it left out.
"""

from __future__ import annotations

import json
import logging
import posixpath
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.fs as pafs

from .core.frame import REQUIRED_COLUMNS

log = logging.getLogger(__name__)


TUNE_BOOKKEEPING = (
    "config", "date", "timestamp", "pid", "hostname", "node_ip", "time_since_restore",
    "iterations_since_restore", "timesteps_since_restore", "timesteps_total", "episodes_total",
    "experiment_tag", "checkpoint_dir_name", "should_checkpoint", "done",
)


class ExperimentError(ValueError):
    """A path that is not a readable Tune experiment."""


@dataclass
class Location:
    """A folder on some file system: local, or behind a storage URI."""

    filesystem: pafs.FileSystem
    path: str
    shown: str

    @classmethod
    def parse(cls, where: str | Path) -> "Location":
        text = str(where)
        if "://" in text:
            try:
                filesystem, path = pafs.FileSystem.from_uri(text)
            except (ValueError, OSError) as error:  # pyarrow's ArrowInvalid is a ValueError
                raise ExperimentError(f"cannot open storage URI {text}: {error}") from error
            return cls(filesystem, path.rstrip("/"), text)
        return cls(pafs.LocalFileSystem(), str(Path(text).expanduser().resolve()), text)

    def join(self, *parts: str) -> str:
        return posixpath.join(self.path, *parts)

    def read_text(self, path: str) -> str:
        with self.filesystem.open_input_stream(path) as stream:
            return stream.read().decode("utf-8")

    def listing(self, path: str | None = None) -> list[pafs.FileInfo]:
        return self.filesystem.get_file_info(pafs.FileSelector(path or self.path, allow_not_found=False))

    def exists(self, path: str) -> bool:
        return self.filesystem.get_file_info(path).type != pafs.FileType.NotFound


def _tune_states(location: Location, entries: list[pafs.FileInfo]) -> dict[str, str]:
    """Trial directory name -> Tune's status (RUNNING, TERMINATED, ERROR, ...) from the newest experiment state."""
    states = sorted(e.path for e in entries if e.is_file and e.base_name.startswith("experiment_state-") and e.base_name.endswith(".json"))
    if not states:
        return {}
    try:
        data = json.loads(location.read_text(states[-1]))
        out = {}
        for trial_json, _runtime in data.get("trial_data", []):
            trial = json.loads(trial_json) if isinstance(trial_json, str) else trial_json
            out[trial.get("relative_logdir", "")] = trial.get("status", "")
        return out
    except (OSError, ValueError, TypeError, KeyError) as error:
        log.warning("ignoring unreadable Tune experiment state %s: %s", states[-1], error)
        return {}


def _trial_status(rows: list[dict], config: dict, has_error_file: bool, tune_status: str) -> str:
    if tune_status == "ERROR":
        return "error"
    if rows and rows[-1].get("diverged"):
        return "diverged"
    if rows and rows[-1].get("training_iteration", 0) >= config.get("epochs", float("inf")):
        return "finished"  # possibly after retries: Tune keeps the error file of a recovered failure
    if has_error_file and not tune_status:
        return "error"
    if tune_status == "TERMINATED":
        return "early_stopped"
    return "unfinished"


def _flat_config(config: dict, prefix: str = "config/") -> dict:
    """The trial config as `config/...` keys, nested dicts joined by '/' (as pandas.json_normalize does)."""
    flat: dict = {}
    for key, value in config.items():
        if isinstance(value, dict) and value:
            flat.update(_flat_config(value, f"{prefix}{key}/"))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _read_trial(location: Location, trial_path: str, tune_status: str) -> list[dict]:
    """The tidy rows of one trial directory, as records: one frame is built for all trials at once
    (a DataFrame per trial cost 15 ms, most of a 10,000-trial load)."""
    name = posixpath.basename(trial_path)
    files = {info.base_name for info in location.listing(trial_path)}
    config = json.loads(location.read_text(posixpath.join(trial_path, "params.json")))
    if not isinstance(config, dict):
        raise ValueError("params.json is not a JSON object")
    rows = []
    if "result.json" in files:
        rows = [json.loads(line) for line in location.read_text(posixpath.join(trial_path, "result.json")).splitlines() if line.strip()]
        if not all(isinstance(row, dict) for row in rows):
            raise ValueError("result.json holds a line that is not a JSON object")
    status = _trial_status(rows, config, "error.txt" in files, tune_status)
    trial_id = rows[0].get("trial_id", name) if rows else name
    common = {"trial_id": trial_id, "status": status, **_flat_config(config)}
    tail = {}
    if "error.txt" in files:  # Tune's traceback, text: its last line names the exception
        lines = [line for line in location.read_text(posixpath.join(trial_path, "error.txt")).splitlines() if line.strip()]
        tail["error"] = lines[-1].strip() if lines else "error"
    tail["trial_dir"] = name
    if not rows:  # a trial that never reported still counts as an outcome
        return [common | {"epoch": 0} | tail]
    by_epoch: dict = {}
    for row in rows:
        # `epoch` is Tune's training_iteration (one step = one epoch); a reported key of that name would clash
        metrics = {k: v for k, v in row.items() if k not in TUNE_BOOKKEEPING and k not in ("epoch", "trial_id", "training_iteration")}
        epoch = row.get("training_iteration")
        # a trial restored from a checkpoint reports again the epochs after it: the later report stands
        by_epoch.pop(epoch, None)
        by_epoch[epoch] = common | {"epoch": epoch} | metrics | tail
    return list(by_epoch.values())


TIDY_FILE = "tidy.csv"


def _read_tidy_file(location: Location) -> pd.DataFrame:
    """The tidy table of a results folder (as `study run` wrote it and results/ ships it)."""
    path = posixpath.join(location.path, TIDY_FILE)
    with location.filesystem.open_input_stream(path) as stream:
        frame = pd.read_csv(stream)
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ExperimentError(f"{location.shown}/{TIDY_FILE} lacks the column(s) {missing}: not a tidy table of this project")
    if "experiment" not in frame.columns:
        frame.insert(0, "experiment", posixpath.basename(location.path))
    return frame


def _require_trial_config(frame: pd.DataFrame, paths) -> None:
    """What the analysis needs of every trial's config: its method, seed and weights. A config without
    `weighting` (an experiment run outside `study run`) is taken as fixed weighting."""
    missing = [key for key in ("config/method", "config/seed") if key not in frame.columns or frame[key].isna().any()]
    if not any(c.startswith("config/weights/") for c in frame.columns):
        missing.append("config/weights/<name>")
    if missing:
        raise ExperimentError(f"the trial configs in {', '.join(map(str, paths))} lack {', '.join(k.removeprefix('config/') for k in missing)}: "
                              "the analysis needs each trial's method, seed and weights")
    if "config/weighting" not in frame.columns:
        frame["config/weighting"] = "fixed"
    else:
        frame["config/weighting"] = frame["config/weighting"].fillna("fixed")


def load_experiment(*paths: str | Path) -> pd.DataFrame:
    """The tidy frame of one or more experiments: Tune experiment folders (local or storage URIs), or
    results folders that hold only the `tidy.csv` a study run wrote (reports rebuilt without Tune's files)."""
    if not paths:
        raise ExperimentError("no experiment given")
    frames, skipped = [], []
    for where in paths:
        location = Location.parse(where)
        info = location.filesystem.get_file_info(location.path)
        if info.type != pafs.FileType.Directory:
            raise ExperimentError(f"no experiment directory at {location.shown}")
        entries = location.listing()
        trial_paths = [e.path for e in entries if e.type == pafs.FileType.Directory and location.exists(posixpath.join(e.path, "params.json"))]
        if not trial_paths and location.exists(posixpath.join(location.path, TIDY_FILE)):
            frames.append(_read_tidy_file(location))  # a results folder: the tidy table a study run wrote, without Tune's files
            continue
        if not trial_paths:
            raise ExperimentError(f"{location.shown} holds no trial directories (params.json) and no {TIDY_FILE}: not a Tune experiment of this project")
        states, records = _tune_states(location, entries), []
        experiment = posixpath.basename(location.path)
        for trial_path in sorted(trial_paths):
            name = posixpath.basename(trial_path)
            try:
                records += [{"experiment": experiment} | row for row in _read_trial(location, trial_path, states.get(name, ""))]
            except (OSError, ValueError, TypeError) as error:
                log.warning("skipping damaged trial directory %s: %s", trial_path, error)
                skipped.append((trial_path, str(error)))
        if records:
            frames.append(pd.DataFrame.from_records(records))
    if not frames:
        raise ExperimentError(f"no readable trial in {', '.join(map(str, paths))}; skipped: {skipped}")
    frame = pd.concat(frames, ignore_index=True)
    _require_trial_config(frame, paths)
    leading = ["experiment", "trial_id", "status", "epoch"]
    config_columns = sorted(c for c in frame.columns if c.startswith("config/"))
    rest = [c for c in frame.columns if c not in leading and c not in config_columns]
    frame = frame[leading + config_columns + rest].sort_values(["experiment", "trial_id", "epoch"], ignore_index=True)
    frame.attrs["skipped"] = skipped
    return frame


def final_rows(tidy: pd.DataFrame) -> pd.DataFrame:
    """The last reported epoch of every trial."""
    keys = ["experiment", "trial_id"] if "experiment" in tidy.columns else ["trial_id"]
    return tidy.sort_values("epoch").groupby(keys, as_index=False).tail(1).sort_values(keys, ignore_index=True)
