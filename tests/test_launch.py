"""The order of a run's steps, without Ray: Ray and Tune are replaced by recorders.

What must hold on every path: nothing is written before the cluster is known to fit a trial; the spec
and provenance are written before any trial starts; Ray (when the run started it) is stopped however
the run ends, before the driver mark is removed; a resume appends its provenance.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from study import launch
from study.experiment_lock import DRIVER_FILE
from study.spec import SpecError, parse_spec

SPEC = parse_spec({"name": "order", "dataset": {"name": "digits"}, "methods": [{"name": "beta_vae"}], "seeds": [0], "epochs": 1})


class FakeTuner:
    def __init__(self, steps: list[str], experiment, fail: bool = False) -> None:
        self.steps, self.experiment, self.fail = steps, experiment, fail

    def fit(self) -> None:
        folder = next(self.experiment.iterdir())
        present = sorted(p.name for p in folder.iterdir())
        self.steps.append(f"fit with {present}")
        if self.fail:
            raise RuntimeError("the driver's loop broke")


@pytest.fixture
def steps(monkeypatch, tmp_path):
    """Replace Ray, Tune and the analysis with recorders; return the list of steps taken."""
    taken: list[str] = []
    monkeypatch.setattr(launch, "provenance", lambda: {"commit": "c"})
    monkeypatch.setattr(launch, "start_ray", lambda address: taken.append("start ray") or True)
    monkeypatch.setattr(launch, "stop_ray", lambda own: taken.append(f"stop ray {own}"))
    monkeypatch.setattr(launch, "check_resources", lambda spec: taken.append("check resources"))
    monkeypatch.setattr(launch, "build_tuner", lambda *args: taken.append("build tuner") or FakeTuner(taken, tmp_path))
    monkeypatch.setattr(launch, "load_experiment", lambda path: taken.append("tidy") or pd.DataFrame({"trial_id": ["a"]}))
    monkeypatch.setattr(launch, "summarize", lambda tidy, metrics=None: pd.DataFrame({"n": [1]}))
    real_remove = launch.ExperimentFiles.remove

    def remove(files, relative):
        taken.append(f"remove {relative}")
        real_remove(files, relative)

    monkeypatch.setattr(launch.ExperimentFiles, "remove", remove)
    return taken


def test_a_run_writes_its_files_in_order_and_stops_its_ray(steps, tmp_path):
    path, tidy = launch.run_study(SPEC, storage_path=str(tmp_path), splits=object())
    assert steps == [
        "start ray", "check resources", "build tuner",
        f"fit with {sorted([DRIVER_FILE, launch.RUN_FILE, launch.SPEC_FILE])}",  # spec, provenance and driver mark first
        "stop ray True", f"remove {DRIVER_FILE}", "tidy",
    ]
    folder = tmp_path / path.rsplit("/", 1)[1]
    assert sorted(p.name for p in folder.iterdir()) == sorted([launch.RUN_FILE, launch.SPEC_FILE, "tidy.csv", "summary.csv"])
    assert json.loads((folder / launch.RUN_FILE).read_text())["duration_s"] >= 0
    assert list(tidy["trial_id"]) == ["a"]


def test_a_cluster_that_cannot_hold_a_trial_leaves_nothing_and_no_ray(steps, monkeypatch, tmp_path):
    def refuse(spec):
        steps.append("check resources")
        raise SpecError("resources: no node")

    monkeypatch.setattr(launch, "check_resources", refuse)
    with pytest.raises(SpecError, match="no node"):
        launch.run_study(SPEC, storage_path=str(tmp_path), splits=object())
    assert steps == ["start ray", "check resources", "stop ray True"]
    assert list(tmp_path.iterdir()) == []


def test_a_broken_fit_still_stops_ray_unmarks_the_driver_and_records_the_run(steps, monkeypatch, tmp_path):
    monkeypatch.setattr(launch, "build_tuner", lambda *args: FakeTuner(steps, tmp_path, fail=True))
    with pytest.raises(RuntimeError, match="loop broke"):
        launch.run_study(SPEC, storage_path=str(tmp_path), splits=object())
    assert steps[-2:] == ["stop ray True", f"remove {DRIVER_FILE}"]
    folder = next(tmp_path.iterdir())
    assert not (folder / DRIVER_FILE).exists() and not (folder / "tidy.csv").exists()
    assert "duration_s" in json.loads((folder / launch.RUN_FILE).read_text())


def test_a_caller_s_ray_is_left_running(steps, monkeypatch, tmp_path):
    monkeypatch.setattr(launch, "start_ray", lambda address: steps.append("start ray") or False)
    launch.run_study(SPEC, storage_path=str(tmp_path), splits=object())
    assert "stop ray False" in steps


def test_a_resume_appends_its_provenance(steps, monkeypatch, tmp_path):
    path, _ = launch.run_study(SPEC, storage_path=str(tmp_path), splits=object())
    first = json.loads((tmp_path / path.rsplit("/", 1)[1] / launch.RUN_FILE).read_text())
    steps.clear()
    monkeypatch.setattr(launch.tune.Tuner, "can_restore", staticmethod(lambda path: True))
    monkeypatch.setattr(launch, "load_data", lambda spec: object())
    monkeypatch.setattr(launch, "restore_tuner", lambda files, spec, splits: steps.append("restore tuner") or FakeTuner(steps, tmp_path))
    launch.resume_study(path)
    assert steps[:3] == ["start ray", "check resources", "restore tuner"]
    assert steps[-3:] == ["stop ray True", f"remove {DRIVER_FILE}", "tidy"]
    record = json.loads((tmp_path / path.rsplit("/", 1)[1] / launch.RUN_FILE).read_text())
    assert record["duration_s"] == first["duration_s"] and len(record["resumes"]) == 1
    assert record["resumes"][0]["resumed"] is True
