"""Fixed vs adaptive weighting on synthetic tidy frames whose answers are known by construction."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from analysis.adaptive import adaptive_weight_name, compare_fixed_adaptive
from analysis.glossary import COMPARISON_DEFINITIONS as DEFINITIONS
from analysis.tradeoff import hypervolume, pareto_front, tradeoff_by_mode

# a log grid as the study writes it, float noise included
STARTS = (2.0, 5.848035476425733, 17.099759466766965, 50.000000000000014)
SEEDS = tuple(range(6))
EPOCHS = 6

MetricOf = Callable[[str, float, np.random.Generator], float]
WeightOf = Callable[[str, float, int], float]


def constant_weight(mode: str, start: float, epoch: int) -> float:
    return start


def tidy_frame(metric_of: MetricOf, weight_of: WeightOf = constant_weight, modes=("fixed", "adaptive"),
               starts=STARTS, seeds=SEEDS, epochs: int = EPOCHS, noise_seed: int = 0) -> pd.DataFrame:
    """A row per trial and epoch; metrics are evaluated only at the last epoch, as with eval_every > 1."""
    rng = np.random.default_rng(noise_seed)
    rows = []
    for mode in modes:
        for start in starts:
            for seed in seeds:
                trial = f"{mode}-{start:.3g}-{seed}"
                mig = metric_of(mode, start, rng)
                for epoch in range(1, epochs + 1):
                    last = epoch == epochs
                    rows.append({
                        "trial_id": trial, "status": "finished", "epoch": epoch, "config/method": "factor_vae",
                        "config/weighting": mode, "config/seed": seed, "config/epochs": epochs,
                        "config/weights/gamma": start, "weight/gamma": weight_of(mode, start, epoch),
                        "mig": mig if last else math.nan, "recon_bce": 30.0 + 10 * mig if last else math.nan,
                        "diverged": False,
                    })
    return pd.DataFrame(rows)


def depends_on_start_unless_adaptive(mode: str, start: float, rng: np.random.Generator) -> float:
    return (0.3 if mode == "adaptive" else 0.1 * math.log(start)) + rng.normal(0, 0.01)


def depends_on_start_always(mode: str, start: float, rng: np.random.Generator) -> float:
    return 0.05 * math.log(start) + rng.normal(0, 0.05)


def test_adaptive_insensitive_to_start_gives_small_ratio_and_unequal_spread():
    result = compare_fixed_adaptive(tidy_frame(depends_on_start_unless_adaptive), "mig")
    assert result["weight"] == "gamma" and result["method"] == "factor_vae" and result["mode"] == "max"
    assert result["spread_ratio"] < 0.1
    assert result["spread_ratio_ci_high"] < 1
    assert result["spread_ratio_ci_low"] <= result["spread_ratio"] <= result["spread_ratio_ci_high"]
    assert result["brown_forsythe_p"] < 1e-3 and result["levene_p"] < 1e-3

    spread = result["spread"].set_index("weighting")
    # fixed: per-start means follow 0.1 * log(start), so their range is about 0.1 * log(25)
    assert spread.loc["fixed", "start_means_range"] == pytest.approx(0.1 * math.log(25), abs=0.02)
    assert spread.loc["adaptive", "start_means_range"] < 0.03
    assert spread.loc["fixed", "best_start"] == pytest.approx(50.0)
    assert result["spread_ratio"] == pytest.approx(spread.loc["adaptive", "start_means_std"] / spread.loc["fixed", "start_means_std"])

    counts = result["counts"].set_index("weighting")
    assert counts.loc["fixed", "included"] == counts.loc["adaptive", "included"] == len(STARTS) * len(SEEDS)
    assert counts.loc["adaptive", "starts"] == 4 and counts.loc["adaptive", "seeds"] == len(SEEDS)
    tests = result["equal_spread_tests"]
    assert set(tests["n"]) == set(tests["n_reference"]) == {len(STARTS) * len(SEEDS)}  # one value per trial, pooled


@pytest.mark.parametrize("noise_seed", range(5))  # several draws, so no single lucky one decides
def test_equally_spread_modes_give_large_p_and_ratio_interval_around_one(noise_seed):
    result = compare_fixed_adaptive(tidy_frame(depends_on_start_always, noise_seed=noise_seed), "mig")
    assert result["brown_forsythe_p"] > 0.1
    assert result["spread_ratio_ci_low"] < 1 < result["spread_ratio_ci_high"]
    assert 0.5 < result["spread_ratio"] < 2


def test_bootstrap_is_reproducible_with_its_seed():
    frame = tidy_frame(depends_on_start_always)
    first, again = (compare_fixed_adaptive(frame, "mig", resamples=500, seed=7) for _ in range(2))
    other = compare_fixed_adaptive(frame, "mig", resamples=500, seed=8)
    assert first["spread_ratio_ci_low"] == again["spread_ratio_ci_low"]
    assert first["spread_ratio_ci_low"] != other["spread_ratio_ci_low"]


def converging_weight(mode: str, start: float, epoch: int) -> float:
    """Adaptive: log weight moves geometrically from log(start) to log(10)."""
    if mode == "fixed":
        return start
    return math.exp(math.log(10) + (math.log(start) - math.log(10)) * 0.2 ** epoch)


def parallel_weight(mode: str, start: float, epoch: int) -> float:
    """Adaptive: every start shrinks by the same factor, so the starts stay as far apart on a log scale."""
    return start if mode == "fixed" else start * 0.9 ** epoch


def test_converging_trajectories_give_ratio_near_zero():
    result = compare_fixed_adaptive(tidy_frame(depends_on_start_unless_adaptive, converging_weight), "mig")
    assert result["convergence_ratio_adaptive"] < 1e-3
    assert result["convergence_ratio_fixed"] == pytest.approx(1.0, abs=1e-9)
    convergence = result["convergence"].set_index("weighting")
    assert convergence.loc["adaptive", "final_weight_geomean"] == pytest.approx(10.0, rel=1e-3)
    trajectories = result["trajectories"]
    assert list(trajectories.columns) == ["trial_id", "weighting", "start", "seed", "epoch", "weight"]
    assert len(trajectories) == 2 * len(STARTS) * len(SEEDS) * EPOCHS
    first_epoch = trajectories[(trajectories["weighting"] == "adaptive") & (trajectories["epoch"] == 1)]
    assert first_epoch["weight"].max() == pytest.approx(converging_weight("adaptive", 50.0, 1))


def test_parallel_trajectories_give_ratio_near_one():
    result = compare_fixed_adaptive(tidy_frame(depends_on_start_unless_adaptive, parallel_weight), "mig")
    assert result["convergence_ratio_adaptive"] == pytest.approx(1.0, abs=1e-9)
    convergence = result["convergence"].set_index("weighting")
    assert convergence.loc["adaptive", "convergence_ratio_epoch1"] == pytest.approx(1.0, abs=1e-9)
    assert convergence.loc["adaptive", "final_weight_max"] == pytest.approx(50.0 * 0.9 ** EPOCHS)


def test_weight_detected_from_the_moving_column_and_ambiguity_is_an_error():
    frame = tidy_frame(depends_on_start_unless_adaptive, converging_weight).assign(**{"config/weights/beta": 1.0, "weight/beta": 1.0})
    assert adaptive_weight_name(frame) == "gamma"
    frame["weight/beta"] = frame["epoch"] * 1.0
    with pytest.raises(ValueError, match="several weights move"):
        adaptive_weight_name(frame)
    assert compare_fixed_adaptive(frame, "mig", weight="gamma")["weight"] == "gamma"


# hand-built points: (x, y)
POINTS = pd.DataFrame({"name": list("ABCDEF"), "x": [1, 2, 3, 3, 4, 2], "y": [1, 3, 2, 4, 4, 3]})


@pytest.mark.parametrize(("x_mode", "y_mode", "expected"), [
    ("min", "max", {"A", "B", "D", "F"}),  # F duplicates B: equal points do not dominate each other
    ("max", "min", {"A", "C", "E"}),
    ("max", "max", {"E"}),
    ("min", "min", {"A"}),
])
def test_pareto_front_keeps_exactly_the_non_dominated_points(x_mode, y_mode, expected):
    front = pareto_front(POINTS, "x", "y", x_mode, y_mode)
    assert set(front["name"]) == expected


def test_pareto_front_ignores_missing_values():
    points = pd.concat([POINTS, pd.DataFrame({"name": ["G"], "x": [0.0], "y": [math.nan]})], ignore_index=True)
    assert set(pareto_front(points, "x", "y")["name"]) == {"A", "B", "D", "F"}


def test_hypervolume_and_shares_on_the_joint_front():
    # the union of [x, 5] x [0, y] over A(1,1), B(2,3), D(3,4): 1*1 + 1*3 + 2*4
    assert hypervolume(POINTS, (5.0, 0.0), "x", "y") == pytest.approx(12.0)
    final = POINTS[POINTS["name"] != "F"].assign(
        trial_id=lambda f: f["name"], weighting=["fixed", "adaptive", "fixed", "adaptive", "fixed"], start=1.0, seed=0)
    front, summary = tradeoff_by_mode(final, "x", "y", "min", "max")
    assert set(front["trial_id"]) == {"A", "B", "D"}
    by_mode = summary.set_index("weighting")
    assert by_mode.loc["fixed", "share_on_front"] == pytest.approx(1 / 3)
    assert by_mode.loc["adaptive", "share_on_front"] == pytest.approx(1.0)
    # reference = worst x (4) and worst y (1): fixed's front A, C, E adds only C's 1 x 1; adaptive: B 1 x 2 + D 1 x 3
    assert by_mode.loc["fixed", "hypervolume"] == pytest.approx(1.0)
    assert by_mode.loc["adaptive", "hypervolume"] == pytest.approx(5.0)


def test_unfinished_and_broken_trials_are_counted_and_left_out():
    frame = tidy_frame(depends_on_start_unless_adaptive)
    last = frame.groupby("trial_id")["epoch"].transform("max") == frame["epoch"]
    frame.loc[frame["trial_id"] == "fixed-2-0", "status"] = "early_stopped"
    frame.loc[frame["trial_id"] == "fixed-2-1", "status"] = "error"
    frame.loc[frame["trial_id"] == "adaptive-50-0", "status"] = "diverged"
    frame.loc[(frame["trial_id"] == "adaptive-50-1") & last, "mig"] = math.nan
    frame.loc[frame["config/seed"] == 5, "config/seed"] = np.where(frame.loc[frame["config/seed"] == 5, "config/weighting"] == "fixed", 5, 9)
    result = compare_fixed_adaptive(frame, "mig")
    counts = result["counts"].set_index("weighting")
    per_mode = len(STARTS) * len(SEEDS)
    assert counts.loc["fixed", "status/early_stopped"] == counts.loc["fixed", "status/error"] == 1
    assert counts.loc["adaptive", "status/diverged"] == 1 and counts.loc["adaptive", "status/finished"] == per_mode - 1
    assert counts.loc["fixed", "excluded_status"] == 2 and counts.loc["adaptive", "excluded_status"] == 1
    assert counts.loc["adaptive", "excluded_missing_metric"] == 1
    # seed 5 only in fixed, seed 9 only in adaptive: their 4 trials each are not shared
    assert counts.loc["fixed", "excluded_not_shared"] == counts.loc["adaptive", "excluded_not_shared"] == 4
    assert counts.loc["fixed", "included"] == per_mode - 2 - 4 and counts.loc["adaptive", "included"] == per_mode - 2 - 4
    assert counts.loc["adaptive", "seed_values"] == "0, 1, 2, 3, 4"


def test_missing_adaptive_mode_is_named():
    frame = tidy_frame(depends_on_start_unless_adaptive, modes=("fixed",))
    with pytest.raises(ValueError, match=r"no adaptive trials.*\['fixed'\]"):
        compare_fixed_adaptive(frame, "mig")


def test_no_shared_starts_lists_each_mode():
    fixed = tidy_frame(depends_on_start_unless_adaptive, modes=("fixed",), starts=(1.0, 2.0))
    adaptive = tidy_frame(depends_on_start_unless_adaptive, modes=("adaptive",), starts=(3.0, 4.0))
    with pytest.raises(ValueError, match=r"share no starting weights: fixed has starts \[1\.0, 2\.0\].*adaptive has starts \[3\.0, 4\.0\]"):
        compare_fixed_adaptive(pd.concat([fixed, adaptive], ignore_index=True), "mig")


def test_unknown_metric_is_named():
    with pytest.raises(ValueError, match=r"unknown metric 'sap'.*metric columns.*'mig'"):
        compare_fixed_adaptive(tidy_frame(depends_on_start_unless_adaptive), "sap")


def test_every_reported_quantity_has_a_definition():
    result = compare_fixed_adaptive(tidy_frame(depends_on_start_unless_adaptive, converging_weight), "mig", resamples=200)
    floats = [k for k, v in result.items() if isinstance(v, float)]
    for key in floats:
        assert key.removesuffix("_fixed").removesuffix("_adaptive") in DEFINITIONS, key
    for name in ("spread", "spread_ratios", "convergence", "tradeoff"):
        reported = set(result[name].columns) - {"weighting", "reference", "confidence", "resamples", "reference_x", "reference_y"}
        assert reported <= set(DEFINITIONS), (name, reported - set(DEFINITIONS))
    assert all(sentence.endswith(".") and sentence.count(". ") == 0 for sentence in DEFINITIONS.values())
