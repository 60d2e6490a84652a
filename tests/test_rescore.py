"""`study rescore`: a trial's last checkpoint, scored again, gives what the trial itself measured."""

import json
import math

import pytest
import torch

from conftest import small_networks
from study.cli import main
from study.rescore import RescoreError, rescore_experiment
from trainables.evaluation import EVAL_KEYS
from trainables.methods import METHODS
from trainables.trial import CHECKPOINT_FILE, Trial

DATASET = {"name": "dsprites", "options": {"resolution": 16, "sizes": {"scale": 2, "orientation": 2, "position_x": 4, "position_y": 4}}}


def finished_experiment(folder, splits, methods=("imae", "factor_vae"), epochs=2):
    """A folder laid out as Tune leaves one: study_spec.json, and per trial params.json + checkpoint folders."""
    folder.mkdir()
    (folder / "study_spec.json").write_text(json.dumps({"name": "t", "dataset": DATASET}))
    measured = {}
    for method in methods:
        config = {"method": method, "weighting": "fixed", "weights": {}, "seed": 1, "epochs": epochs, "batch_size": 32, "eval_size": 100,
                  "eval_every": 1, "options": {"lr": 1e-3} | small_networks(METHODS[method])}
        trial = Trial(config, splits)
        trial_dir = folder / f"{method}-seed=1"
        for epoch in range(epochs):  # a checkpoint per epoch, the newest the one to score
            measured[method] = trial.train_epoch()
            (trial_dir / f"checkpoint_{epoch:06d}").mkdir(parents=True)
            torch.save(trial.state(), trial_dir / f"checkpoint_{epoch:06d}" / CHECKPOINT_FILE)
        (trial_dir / "params.json").write_text(json.dumps(config))
    return measured


def test_rescoring_gives_the_metrics_the_trial_reported_at_its_last_epoch(tiny_sprites, tmp_path):
    measured = finished_experiment(tmp_path / "exp", tiny_sprites)
    lines = []
    table = rescore_experiment(tmp_path / "exp", progress=lines.append).set_index("method")
    assert sorted(table.index) == ["factor_vae", "imae"] and set(table["epoch"]) == {2} and set(table["dataset"]) == {"dsprites"}
    for method, metrics in measured.items():
        for key in EVAL_KEYS:
            if math.isnan(metrics[key]):
                assert math.isnan(table.loc[method, key]), key
            else:
                assert table.loc[method, key] == pytest.approx(metrics[key], rel=1e-6, abs=1e-9), (method, key)
    assert math.isfinite(table.loc["imae", "tc_y_z"]) and math.isnan(table.loc["factor_vae", "tc_y_z"])  # only a hybrid code has one
    assert len(lines) == 2 and lines[0].startswith("scored 1/2")


def test_a_trial_without_checkpoints_is_skipped_and_named(tiny_sprites, tmp_path):
    finished_experiment(tmp_path / "exp", tiny_sprites, methods=("beta_vae",), epochs=1)
    (tmp_path / "exp" / "crashed").mkdir()
    (tmp_path / "exp" / "crashed" / "params.json").write_text("{}")
    lines = []
    assert len(rescore_experiment(tmp_path / "exp", progress=lines.append)) == 1
    assert lines[0] == "skipped crashed: no checkpoint"


def test_cli_writes_the_table_and_refuses_a_folder_that_is_not_an_experiment(tiny_sprites, tmp_path, capsys):
    finished_experiment(tmp_path / "exp", tiny_sprites, methods=("beta_vae",), epochs=1)
    assert main(["rescore", str(tmp_path / "exp"), "--out", str(tmp_path / "out.csv"), "--metric", "tc_y_z"]) == 0
    assert "tc_y_z" in capsys.readouterr().out and (tmp_path / "out.csv").read_text().count("\n") == 2
    assert main(["rescore", str(tmp_path)]) == 2
    assert "no study_spec.json" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "study_spec.json").write_text(json.dumps({"dataset": DATASET}))
    with pytest.raises(RescoreError, match="none of its 0 trial folder"):
        rescore_experiment(tmp_path / "empty")
