"""results/reproduction/pilot_arms.py: the paired difference of two arms keeps a valid interval at a range of 0."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "results" / "reproduction"


def test_paired_difference_is_a_point_when_every_seed_moves_alike(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPTS))
    paired_difference = importlib.import_module("pilot_arms").paired_difference
    base = np.array([0.50, 0.55, 0.61, 0.47])
    assert paired_difference(base, base) == (0.0, 0.0, 0.0, 1.0)  # no difference: not NaN
    mean, low, high, p = paired_difference(base + 0.125, base)  # exact in binary: the same shift in every seed
    assert (mean, low, high, p) == (0.125, 0.125, 0.125, 0.0)
    mean, low, high, p = paired_difference(base + np.array([0.10, 0.12, 0.08, 0.11]), base)
    assert mean == pytest.approx(0.1025) and low < mean < high and p < 0.01
    mean, low, high, p = paired_difference(base + np.array([0.05, -0.04, 0.02, -0.03]), base)
    assert low < 0 < high and p > 0.5  # noise around no effect
