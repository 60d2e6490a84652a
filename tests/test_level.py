"""The level beside the spread: is a controlled mode as good as the best fixed weight, or as a fixed weight
picked without tuning? Synthetic frames whose answers are known by construction (test_adaptive_comparison's)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from analysis.adaptive import analysed_final_rows, compare_fixed_adaptive
from analysis.level import level_against_fixed
from analysis.verdicts import comparison_verdict

from tests.test_adaptive_comparison import STARTS, tidy_frame

BEST = 0.1 * math.log(max(STARTS))  # fixed: 0.1 log(start), best at the largest start
ALL_FIXED = float(np.mean([0.1 * math.log(s) for s in STARTS]))


def flat_at(level: float):
    """Fixed follows the start; the controlled modes sit at `level` from every start."""
    def metric(mode: str, start: float, rng: np.random.Generator) -> float:
        return (level if mode != "fixed" else 0.1 * math.log(start)) + rng.normal(0, 0.01)
    return metric


def level_table(metric, modes=("fixed", "adaptive")):
    final, _ = analysed_final_rows(tidy_frame(metric, modes=modes), "mig", "gamma")
    return final, level_against_fixed(final, "mig", "max").set_index(["weighting", "reference"])


def test_insensitive_but_below_the_best_fixed_start_is_worse_than_it_and_better_than_an_untuned_start():
    level = (BEST + ALL_FIXED) / 2
    final, table = level_table(flat_at(level))
    best = table.loc[("adaptive", "best fixed start")]
    assert best["reference_start"] == pytest.approx(max(STARTS))
    assert best["mean"] == pytest.approx(level, abs=0.01) and best["reference_mean"] == pytest.approx(BEST, abs=0.01)
    assert best["difference"] == pytest.approx(level - BEST, abs=0.01)
    assert best["ci_low"] <= best["difference"] <= best["ci_high"] < 0
    assert best["better"] == "fixed" and best["p_value"] < 1e-6
    untuned = table.loc[("adaptive", "all fixed starts")]
    assert untuned["better"] == "adaptive" and untuned["ci_low"] > 0 and math.isnan(untuned["reference_start"])
    assert untuned["n"] == untuned["n_reference"] == len(final) // 2
    # the interval and p are scipy's Welch test on one value per trial
    adaptive = final.loc[final["weighting"] == "adaptive", "mig"]
    fixed_best = final.loc[(final["weighting"] == "fixed") & np.isclose(final["start"], max(STARTS)), "mig"]
    welch = stats.ttest_ind(adaptive, fixed_best, equal_var=False)
    assert best["p_value"] == pytest.approx(welch.pvalue)
    assert best["ci_low"] == pytest.approx(welch.confidence_interval(0.95).low)


def test_a_controller_at_the_best_fixed_level_shows_no_detectable_difference_from_it():
    _, table = level_table(flat_at(BEST))
    best = table.loc[("adaptive", "best fixed start")]
    assert best["better"] == "no detectable difference" and best["p_value"] > 0.05
    assert best["ci_low"] < 0 < best["ci_high"]
    assert table.loc[("adaptive", "all fixed starts"), "better"] == "adaptive"


def test_a_minimised_metric_calls_the_lower_side_better():
    final, _ = level_table(flat_at(BEST))
    final = final.assign(mig=-final["mig"])  # the same trials, read as a loss
    table = level_against_fixed(final, "mig", "min").set_index(["weighting", "reference"])
    assert table.loc[("adaptive", "best fixed start"), "reference_start"] == pytest.approx(max(STARTS))
    assert table.loc[("adaptive", "all fixed starts"), "better"] == "adaptive"


def test_without_variance_the_difference_is_given_and_the_test_is_not():
    final, _ = level_table(flat_at(0.2))
    final = final.assign(mig=np.where(final["weighting"] == "fixed", 0.5, 0.2))
    table = level_against_fixed(final, "mig", "max").set_index(["weighting", "reference"])
    row = table.loc[("adaptive", "best fixed start")]
    assert row["difference"] == pytest.approx(-0.3)
    assert math.isnan(row["p_value"]) and row["better"] == "no detectable difference"


def test_no_fixed_trials_is_refused():
    final, _ = level_table(flat_at(0.2))
    with pytest.raises(ValueError, match="no fixed trials"):
        level_against_fixed(final[final["weighting"] != "fixed"], "mig", "max")


def test_the_verdict_gives_the_level_for_adaptive_and_a_sentence_for_annealed():
    level = (BEST + ALL_FIXED) / 2
    frame = tidy_frame(flat_at(level), modes=("fixed", "adaptive", "annealed"))
    result = compare_fixed_adaptive(frame, "mig", resamples=200)
    assert set(result["level"]["weighting"]) == {"adaptive", "annealed"}
    text = comparison_verdict(result)
    assert "adaptive is less sensitive" in text
    assert "Level: adaptive's final MIG over all starts" in text
    assert f"against the best fixed gamma ({max(STARTS):.3g})" in text and "worse" in text
    annealed = text[text.index("Annealed: spread ratio annealed / fixed"):]
    assert "annealed is less sensitive" in annealed and "Level: annealed's final MIG" in annealed
