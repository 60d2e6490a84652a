"""The GPU session's long-run script (results/reproduction/gpu_long_runs.py) works end to end on the
CPU: it cannot be run where it is meant to run until a session is lent a GPU, so its path is kept
alive here on the embedded digits."""

from __future__ import annotations

import importlib
import json
import math
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "results" / "reproduction" / "gpu_long_runs.py"


def load_script(monkeypatch):
    """Imported by name from its folder, as its spawned workers import it."""
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    return importlib.import_module("gpu_long_runs")


def test_runs_side_by_side_and_scores_where_each_stops(tmp_path, monkeypatch):
    script = load_script(monkeypatch)
    code = script.main(["--out", str(tmp_path), "--seconds", "120", "--dataset", "digits", "--epochs-cap", "2",
                        "--run", "aae-16", "--run", "infoae-code-critic"])
    assert code == 0
    for name in ("aae-16", "infoae-code-critic"):
        rows = [json.loads(line) for line in (tmp_path / f"{name}.jsonl").read_text().splitlines()]
        # eval_every (10 and 5) is beyond the 2-epoch cap: the one row is the score where the run stopped
        assert [row["epoch"] for row in rows] == [2]
        assert 0 < rows[0]["cluster_acc"] <= 1 and math.isfinite(rows[0]["recon_bce"])
        assert rows[0]["config"]["epochs"] == 2 and rows[0]["device"] == "cpu"


def test_a_deadline_already_past_trains_one_epoch_and_scores_it(tmp_path, monkeypatch):
    script = load_script(monkeypatch)
    assert script.main(["--out", str(tmp_path), "--seconds", "0", "--dataset", "digits", "--run", "aae-16"]) == 0
    rows = [json.loads(line) for line in (tmp_path / "aae-16.jsonl").read_text().splitlines()]
    assert [row["epoch"] for row in rows] == [1]
