"""results/reproduction/infoae_condition_makeup.py: the style moments read slant and width off known shapes, and
the noise probe finds a linear cut in the noise where there is one and nothing where the marks are shuffled."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "results" / "reproduction" / "infoae_condition_makeup.py"


@pytest.fixture
def makeup(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    return importlib.import_module("infoae_condition_makeup")


def bar(shear: float = 0.0, half_width: int = 1) -> torch.Tensor:
    """A vertical bar through the centre of a 28x28 image, its column moved by `shear` pixels per row."""
    image = torch.zeros(1, 28, 28)
    for row in range(4, 24):
        centre = round(14 + shear * (row - 13.5))
        image[0, row, centre - half_width:centre + half_width + 1] = 1
    return image


def test_styles_read_slant_width_and_ink_off_known_bars(makeup):
    frame = makeup.styles(torch.stack([bar(), bar(shear=0.3), bar(shear=-0.3), bar(half_width=3)]))
    upright, right, left, wide = frame.to_dict("records")
    assert abs(upright["slant"]) < 1e-9 and right["slant"] == pytest.approx(0.3, abs=0.03) and left["slant"] == pytest.approx(-0.3, abs=0.03)
    assert wide["width"] > upright["width"] and wide["ink"] == pytest.approx(7 / 3 * upright["ink"])


def test_z_scores_are_taken_against_real_images_of_the_same_digit(makeup):
    reference = makeup.styles(torch.stack([bar(shear=-0.1), bar(shear=0.1, half_width=2), bar(shear=0.2, half_width=3), bar(shear=0.4, half_width=4)]))
    digits = np.array([0, 0, 1, 1])
    scored = makeup.z_scored(makeup.styles(torch.stack([bar(), bar(shear=0.3, half_width=3)])), np.array([0, 1]), reference, digits)
    assert scored["slant"].abs().max() < 0.2  # each at its own digit's mean slant, though their slants differ by 0.3


def test_noise_probe_finds_a_linear_cut_and_not_shuffled_marks(makeup):
    rng = np.random.default_rng(0)
    noise = rng.uniform(-1, 1, (4000, 100))
    conditions = np.arange(4000) % 2
    off = noise[:, 0] > 0.4  # 30% off-digit in each condition, cut off by one noise input
    probe, base, probed = makeup.noise_probe(noise, off, conditions)
    assert probed == 2 and base == pytest.approx(0.7, abs=0.03) and probe > 0.95
    shuffled, shuffled_base, _ = makeup.noise_probe(noise, off, conditions, shuffle_seed=0)
    assert shuffled < shuffled_base + 0.01
    assert makeup.noise_probe(noise, np.zeros(4000, dtype=bool), conditions) == (pytest.approx(float("nan"), nan_ok=True),) * 2 + (0,)


def test_summary_pairs_each_measure_over_trials(makeup):
    table = pd.DataFrame({"noise_probe": [0.9, 0.92, 0.91], "noise_base": [0.7, 0.75, 0.72], "noise_shuffled": [0.69, 0.74, 0.71],
                          "confidence_on": [0.98] * 3, "confidence_off": [0.9] * 3,
                          "style_r_ink": [0.5, 0.6, np.nan], "style_r_slant": [0.1, -0.1, 0.0], "style_r_width": [0.3, 0.4, 0.5]})
    lines = {line.split(" | ")[0].strip("| "): line for line in makeup.summary(table).splitlines() if line.startswith("| ")}
    assert "+0.187" in lines["noise_probe"] and "-0.010" in lines["noise_shuffled"]
    assert "+0.080 | +0.080 to +0.080 | 0 |" in lines["confidence_on"]  # the same gap in every trial: a point, not NaN
    assert "+0.550" in lines["style_r_ink"]  # the trial without a correlation is left out
    assert "+0.000" in lines["style_r_slant"] and lines["style_r_slant"].endswith("| 1 |")


def test_summary_gives_no_interval_for_a_single_trial(makeup):
    table = pd.DataFrame({"noise_probe": [0.9, np.nan], "noise_base": [0.7, 0.9], "noise_shuffled": [0.69, np.nan],
                          "confidence_on": [0.98, 0.97], "confidence_off": [0.9, 0.8],
                          "style_r_ink": [0.5, np.nan], "style_r_slant": [0.1, np.nan], "style_r_width": [0.3, np.nan]})
    lines = {line.split(" | ")[0].strip("| "): line for line in makeup.summary(table).splitlines() if line.startswith("| ")}
    assert "1 trial(s): no interval" in lines["noise_probe"] and "1 trial(s): no interval" in lines["style_r_ink"]
    assert "+0.125" in lines["confidence_on"]  # two trials: tested as before
