"""Claims of effect and of no effect, on synthetic experiments whose truth is known: a flat arm, a
sloped arm, and two weights of which only one matters (on a grid and on a space-filling design)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import qmc

from analysis.sensitivity import sensitivity_indices

SEED_LUCK = np.array([0.03, -0.02, 0.01, -0.04])


def frame(settings: list[dict], response, seeds=range(4), noise=0.01, rng_seed=0) -> pd.DataFrame:
    """One finished trial per setting x seed at epoch 5; response(weights) + seed luck + trial noise."""
    rng = np.random.default_rng(rng_seed)
    rows = []
    for i, weights in enumerate(settings):
        for seed in seeds:
            rows.append({"trial_id": f"t{i}-{seed}", "status": "finished", "epoch": 5, "config/method": "m", "config/weighting": "fixed",
                         "config/seed": seed, **{f"config/weights/{k}": v for k, v in weights.items()},
                         "metric": response(weights) + SEED_LUCK[seed] + noise * rng.normal()})
    return pd.DataFrame(rows)


ONE_WEIGHT = [{"w": v} for v in (0.1, 0.3, 1.0, 3.0, 10.0)]


def rows_of(table, index, weight="w"):
    return table[(table["index"] == index) & (table["weight"] == weight)]


def assert_intervals_contain_estimates(table):
    bounded = table.dropna(subset=["value", "ci_low", "ci_high"])
    assert len(bounded) > 0
    inside = (bounded["ci_low"] <= bounded["value"] + 1e-12) & (bounded["value"] <= bounded["ci_high"] + 1e-12)
    assert inside.all(), bounded[~inside]


def test_flat_arm_every_interval_contains_its_estimate_and_p_is_large():
    """Over 30 flat experiments (fresh trial noise each) every interval holds its estimate and the
    p-values spread like a valid test's: few below 0.05, the median large."""
    p_values = []
    for draw in range(30):
        table = sensitivity_indices(frame(ONE_WEIGHT, lambda w: 0.5, rng_seed=draw), "metric", n_resamples=200, n_permutations=500)
        assert_intervals_contain_estimates(table)
        p_values.append(rows_of(table, "no_effect_p")["value"].item())
    assert np.mean(np.array(p_values) < 0.05) <= 0.2 and np.median(p_values) > 0.25, sorted(p_values)


def test_metric_that_depends_only_on_the_seed_has_range_zero_inside_zero_width_interval_and_p_one():
    table = sensitivity_indices(frame(ONE_WEIGHT, lambda w: 0.5, noise=0.0), "metric")
    assert_intervals_contain_estimates(table)
    row = rows_of(table, "range").iloc[0]
    assert row["value"] == pytest.approx(0, abs=1e-12) and row["ci_low"] == pytest.approx(0, abs=1e-12) and row["ci_high"] == pytest.approx(0, abs=1e-12)
    assert rows_of(table, "no_effect_p")["value"].item() == 1.0


def test_sloped_arm_has_small_p_and_range_and_weight_share_inside_their_intervals():
    table = sensitivity_indices(frame(ONE_WEIGHT, lambda w: 0.5 + 0.05 * np.log(w["w"])), "metric")
    assert rows_of(table, "no_effect_p")["value"].item() < 0.01
    for index in ("range", "weight_share"):
        row = rows_of(table, index).iloc[0]
        assert row["ci_low"] <= row["value"] <= row["ci_high"], row
    assert rows_of(table, "range")["value"].item() == pytest.approx(0.05 * np.log(100), rel=0.15)


def only_a_matters(weights):
    return 0.5 + 0.1 * np.sin(np.log(weights["a"]))


def test_space_filling_design_separates_the_weight_that_matters_from_the_one_that_does_not():
    unit = qmc.Sobol(d=2, scramble=True, seed=1).random(16)
    settings = [{"a": float(10 ** (2 * u - 1)), "b": float(10 ** (2 * v - 1))} for u, v in unit]
    table = sensitivity_indices(frame(settings, only_a_matters, seeds=range(3), noise=0.005), "metric")
    assert_intervals_contain_estimates(table)
    main_a, main_b = rows_of(table, "main_effect", "a")["value"].item(), rows_of(table, "main_effect", "b")["value"].item()
    total_b = rows_of(table, "total_effect", "b")["value"].item()
    assert main_a > 0.8 and main_b < 0.1 and total_b < 0.15, table[table["index"].str.endswith("effect")]
    assert rows_of(table, "no_effect_p", "a")["value"].item() < 0.01
    assert rows_of(table, "no_effect_p", "b")["value"].item() > 0.05
    # the curve indices of this design group by setting: the same joint value for both weights, said in the note
    assert rows_of(table, "range", "a")["value"].item() == pytest.approx(rows_of(table, "range", "b")["value"].item())
    assert "joint with b" in rows_of(table, "range", "a")["note"].item()


def test_crossed_grid_tests_each_weight_within_the_others():
    settings = [{"a": a, "b": b} for a in (0.1, 1.0, 10.0) for b in (0.1, 1.0, 10.0)]
    table = sensitivity_indices(frame(settings, only_a_matters, seeds=range(3), noise=0.005), "metric")
    assert rows_of(table, "no_effect_p", "a")["value"].item() < 0.01
    assert rows_of(table, "no_effect_p", "b")["value"].item() > 0.05
    assert "crossed design" in rows_of(table, "no_effect_p", "b")["note"].item()
    assert rows_of(table, "main_effect", "a")["value"].item() > rows_of(table, "main_effect", "b")["value"].item() + 0.5


def test_two_seeds_per_setting_give_no_interval_but_a_verdict():
    table = sensitivity_indices(frame(ONE_WEIGHT, lambda w: 0.5 + 0.05 * np.log(w["w"]), seeds=range(2)), "metric")
    row = rows_of(table, "range").iloc[0]
    assert np.isfinite(row["value"]) and np.isnan(row["ci_low"]) and np.isnan(row["ci_high"])
    assert "too few for a bootstrap interval" in row["note"]
    assert np.isfinite(rows_of(table, "no_effect_p")["value"].item())
