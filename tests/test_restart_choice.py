"""results/reproduction/restart_choice.py: restarts ranked by a training loss at one epoch, never by accuracy."""

from __future__ import annotations

import importlib
from pathlib import Path

import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "results" / "reproduction" / "restart_choice.py"


def stage(rows):
    return pd.DataFrame(rows, columns=["config/seed", "epoch", "loss/cluster_invariance", "cluster_acc"])


def test_ranks_by_the_criterion_at_the_epoch_asked(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    ranking = importlib.import_module("restart_choice").ranking
    # at epoch 1 seed 5 has the lowest loss, at epoch 2 seed 6; accuracy would pick seed 4
    frame = stage([(4, 1, 0.30, 0.90), (5, 1, 0.10, 0.60), (6, 1, 0.20, 0.70),
                   (4, 2, 0.25, 0.95), (5, 2, 0.15, 0.62), (6, 2, 0.05, 0.71)])
    assert ranking(frame, 2, "loss/cluster_invariance", "min", "cluster_acc")["seed"].tolist() == [6, 5, 4]
    assert ranking(frame, 1, "loss/cluster_invariance", "min", "cluster_acc")["seed"].tolist() == [5, 6, 4]
    assert ranking(frame, 2, "loss/cluster_invariance", "max", "cluster_acc")["seed"].tolist() == [4, 5, 6]


def test_refuses_what_it_cannot_rank(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    ranking = importlib.import_module("restart_choice").ranking
    frame = stage([(4, 2, 0.25, 0.95), (5, 2, 0.15, 0.62)])
    with pytest.raises(SystemExit, match="no column 'loss/other'"):
        ranking(frame, 2, "loss/other", "min", "cluster_acc")
    with pytest.raises(SystemExit, match="no rows at epoch 3"):
        ranking(frame, 3, "loss/cluster_invariance", "min", "cluster_acc")
    with pytest.raises(SystemExit, match="a seed appears twice"):
        ranking(pd.concat([frame, frame]), 2, "loss/cluster_invariance", "min", "cluster_acc")
