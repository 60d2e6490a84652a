"""Sensitivity indices and weight importance on synthetic tidy frames with known answers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.core.budgets import default_budgets, evaluated_budgets
from analysis.glossary import INDEX_DEFINITIONS
from analysis.importance import weight_importance
from analysis.ranking import ranking_agreement, rung_table
from analysis.response import robust_fraction
from analysis.sensitivity import INDEX_COLUMNS, sensitivity_indices

GAMMAS = (1.0, 10.0, 100.0, 1000.0)


def trial_rows(trial_id, weights, seed, values, *, status="finished", epochs=3, diverged_at=None,
               method="factor_vae", weighting="fixed", metric="mig"):
    """Tidy rows of one trial: `values[e-1]` is the metric at epoch e; diverged from `diverged_at` on."""
    rows = []
    for epoch, value in enumerate(values, start=1):
        diverged = diverged_at is not None and epoch >= diverged_at
        rows.append({
            "trial_id": trial_id, "status": status, "epoch": epoch, "config/method": method,
            "config/weighting": weighting, "config/seed": seed, "config/epochs": epochs,
            **{f"config/weights/{name}": v for name, v in weights.items()},
            metric: math.nan if diverged else value, "diverged": diverged,
        })
        if diverged:
            break
    return rows


def grid_frame(response, *, gammas=GAMMAS, seeds=range(4), epochs=3, metric="mig"):
    """Every gamma x seed trial finished; response(gamma, seed, epoch) gives the metric."""
    rows = []
    for gamma in gammas:
        for seed in seeds:
            values = [response(gamma, seed, e) for e in range(1, epochs + 1)]
            rows += trial_rows(f"g{gamma}-s{seed}", {"gamma": gamma}, seed, values, epochs=epochs, metric=metric)
    return pd.DataFrame(rows)


def index_value(table, index, weight="gamma", weight_value=None, column="value"):
    rows = table[(table["index"] == index) & (table["weight"] == weight)]
    if weight_value is not None:
        rows = rows[np.isclose(rows["weight_value"], weight_value)]
    assert len(rows) == 1, rows
    return rows.iloc[0][column]


def noise(seed, scale=0.001):
    return scale * np.random.default_rng(seed).normal()


# ---------------------------------------------------------------------------- the five indices


def test_flat_response_has_no_spread_and_is_robust_everywhere():
    table = sensitivity_indices(grid_frame(lambda g, s, e: 0.5 + noise(s)), "mig", n_resamples=200)
    assert list(table.columns) == INDEX_COLUMNS
    assert index_value(table, "range") == pytest.approx(0.0, abs=1e-12)  # seed noise is the same at every gamma
    assert index_value(table, "range_rel") < 1e-9
    assert index_value(table, "robust_fraction") == 1.0
    assert set(table["budget"]) == {3}
    assert set(table["index"]) <= set(INDEX_DEFINITIONS)


def test_seed_driven_response_gives_weight_share_near_zero():
    offsets = [0.1, 0.4, 0.2, 0.7]
    table = sensitivity_indices(grid_frame(lambda g, s, e: offsets[s]), "mig", n_resamples=200)
    assert index_value(table, "weight_share") == pytest.approx(0.0, abs=1e-9)
    assert index_value(table, "seed_share") == pytest.approx(1.0)


def test_weight_driven_response_gives_weight_share_near_one():
    table = sensitivity_indices(grid_frame(lambda g, s, e: 0.1 * math.log10(g) + noise(s)), "mig", n_resamples=200)
    assert index_value(table, "weight_share") > 0.999
    assert index_value(table, "range") == pytest.approx(0.3)


def test_step_response_robust_fraction():
    step = grid_frame(lambda g, s, e: (0.5 if g <= 10 else 0.1) + noise(s))
    assert index_value(sensitivity_indices(step, "mig", n_resamples=50), "robust_fraction") == pytest.approx(0.5)
    # for a 'min' metric the low values are the good ones: the same step, mirrored
    error = grid_frame(lambda g, s, e: (30.0 if g <= 10 else 60.0) + noise(s), metric="recon_bce")
    table = sensitivity_indices(error, "recon_bce", n_resamples=50)
    assert set(table["mode"]) == {"min"} and index_value(table, "robust_fraction") == pytest.approx(0.5)
    # only the best of three log-spaced points is good: it owns half the gap to its neighbour
    peak = grid_frame(lambda g, s, e: 1.0 if g == 1 else 0.5, gammas=(1.0, 10.0, 100.0))
    assert index_value(sensitivity_indices(peak, "mig", n_resamples=50), "robust_fraction") == pytest.approx(0.25)


def test_robust_fraction_is_nan_for_a_single_value():
    assert np.isnan(robust_fraction(np.array([[0.5]]), np.log(np.array([10.0])), "max", 0.05)).all()
    table = sensitivity_indices(grid_frame(lambda g, s, e: 0.5, gammas=(10.0,)), "mig", n_resamples=20)
    assert np.isnan(index_value(table, "robust_fraction"))
    assert "one value" in index_value(table, "robust_fraction", column="note")


def test_tunability_is_best_minus_default_matched_on_log_scale():
    means = {1.0: 0.5, 10.0: 0.2, 100.0: 0.3}
    frame = grid_frame(lambda g, s, e: means[g], gammas=tuple(means))
    # 3.5 is nearer 10 than 1 on the log scale (though nearer 1 on the linear one)
    table = sensitivity_indices(frame, "mig", defaults={"gamma": 3.5}, n_resamples=50)
    assert index_value(table, "tunability") == pytest.approx(0.5 - 0.2)
    assert index_value(table, "tunability", column="weight_value") == 10.0
    assert "matched grid value 10" in index_value(table, "tunability", column="note")
    scoped = sensitivity_indices(frame, "mig", defaults={"factor_vae": {"gamma": 1.0}}, n_resamples=50)
    assert index_value(scoped, "tunability") == pytest.approx(0.0)
    unset = sensitivity_indices(frame, "mig", n_resamples=50)
    assert np.isnan(index_value(unset, "tunability"))
    # a 'min' metric: improvement = default - best, still >= 0
    errors = grid_frame(lambda g, s, e: {1.0: 30.0, 10.0: 45.0, 100.0: 40.0}[g], gammas=tuple(means), metric="recon_bce")
    table = sensitivity_indices(errors, "recon_bce", defaults={"gamma": 100.0}, n_resamples=50)
    assert index_value(table, "tunability") == pytest.approx(10.0)


def test_divergence_rate_counts_diverged_trials_per_weight_value():
    rows = []
    for gamma in GAMMAS:
        for seed in range(4):
            diverges = gamma == 1000.0 and seed < 2 or gamma == 100.0 and seed == 0
            rows += trial_rows(f"g{gamma}-s{seed}", {"gamma": gamma}, seed, [0.3, 0.4, 0.5],
                               status="diverged" if diverges else "finished", diverged_at=2 if diverges else None)
    frame = pd.DataFrame(rows)
    assert default_budgets(frame, "mig") == {"factor_vae": 3}  # diverged trials do not pull the budget down
    table = sensitivity_indices(frame, "mig", n_resamples=100)
    rates = {g: index_value(table, "divergence_rate", weight_value=g) for g in GAMMAS}
    assert rates == {1.0: 0.0, 10.0: 0.0, 100.0: 0.25, 1000.0: 0.5}
    assert index_value(table, "divergence_rate", weight_value=1000.0, column="n_diverged") == 2
    # diverged seeds are left out of the seed-mean, and the row says how many there were
    assert index_value(table, "seed_mean", weight_value=1000.0, column="n_seeds") == 2
    assert index_value(table, "range", column="n_diverged") == 3
    assert "3 of 16 trials diverged" in index_value(table, "range", column="note")
    # at epoch 1 nothing had diverged yet
    early = sensitivity_indices(frame, "mig", budget=1, n_resamples=20)
    assert index_value(early, "divergence_rate", weight_value=1000.0) == 0.0


def test_a_value_where_every_seed_diverged_counts_as_not_robust():
    rows = []
    for gamma in GAMMAS:
        for seed in range(3):
            diverges = gamma == 1000.0
            rows += trial_rows(f"g{gamma}-s{seed}", {"gamma": gamma}, seed, [0.5, 0.5, 0.5],
                               status="diverged" if diverges else "finished", diverged_at=1 if diverges else None)
    table = sensitivity_indices(pd.DataFrame(rows), "mig", n_resamples=50)
    assert index_value(table, "range") == pytest.approx(0.0)
    assert index_value(table, "robust_fraction") == pytest.approx(2.5 / 3)  # the last point's half-gap is lost
    assert index_value(table, "divergence_rate", weight_value=1000.0) == 1.0


def test_bootstrap_interval_contains_estimate_shrinks_with_seeds_and_repeats():
    def response(g, s, e):
        return 0.1 * math.log10(g) + noise(s * 7 + int(g), scale=0.05)

    few = sensitivity_indices(grid_frame(response, seeds=range(4)), "mig", seed=1)
    many = sensitivity_indices(grid_frame(response, seeds=range(40)), "mig", seed=1)
    for index in ("range", "weight_share", "best", "robust_fraction"):
        low, value, high = (index_value(few, index, column=c) for c in ("ci_low", "value", "ci_high"))
        assert low <= value <= high, index
    for index, value in (("range", None), ("seed_mean", 10.0)):
        few_width, many_width = (
            index_value(t, index, weight_value=value, column="ci_high") - index_value(t, index, weight_value=value, column="ci_low")
            for t in (few, many)
        )
        assert 0 < many_width < 0.6 * few_width, index
    assert index_value(many, "range", column="n_seeds") == 40
    again = sensitivity_indices(grid_frame(response, seeds=range(4)), "mig", seed=1)
    pd.testing.assert_frame_equal(few, again)


def test_several_weights_are_marginal_and_float_noise_is_one_value():
    rows = []
    for a in (1.0, 10.0, 100.0):
        for b in (0.1, 1.0):
            for seed in range(3):
                noisy_a = a * (1 + 3e-16) if seed == 1 else a  # e.g. 10.000000000000002
                rows += trial_rows(f"a{a}-b{b}-s{seed}", {"a": noisy_a, "b": b}, seed,
                                   [0.2 * math.log10(a) + b + noise(seed)] * 3, method="rf_vae")
    table = sensitivity_indices(pd.DataFrame(rows), "mig", n_resamples=100)
    assert index_value(table, "range", weight="a", column="n_values") == 3
    assert index_value(table, "seed_mean", weight="a", weight_value=10.0) == pytest.approx(0.2 + (0.1 + 1.0) / 2, abs=0.01)
    assert index_value(table, "range", weight="b") == pytest.approx(0.9, abs=1e-9)
    assert "marginal over b" in index_value(table, "range", weight="a", column="note")
    assert index_value(table, "weight_share", weight="a") > 0.99


# ---------------------------------------------------------------------------- budgets


def asha_frame():
    """Gammas 100 and 1000 stopped by ASHA after epoch 1; 1 and 10 finished 4 epochs. Quality holds over epochs."""
    quality = {1.0: 0.4, 10.0: 0.5, 100.0: 0.2, 1000.0: 0.1}
    rows = []
    for gamma in GAMMAS:
        for seed in range(3):
            stopped = gamma >= 100.0
            values = [quality[gamma] + 0.01 * seed + 0.05 * e for e in range(1, 2 if stopped else 5)]
            rows += trial_rows(f"g{gamma}-s{seed}", {"gamma": gamma}, seed, values, epochs=4,
                               status="early_stopped" if stopped else "finished")
    return pd.DataFrame(rows)


def test_rung_table_uses_all_trials_at_a_low_budget_and_finished_ones_at_the_end():
    frame = asha_frame()
    assert default_budgets(frame, "mig") == {"factor_vae": 1}
    table = rung_table(frame, "mig", n_resamples=50)
    assert sorted(set(table["budget"])) == [1, 4]
    low, final = table[table["budget"] == 1], table[table["budget"] == 4]
    assert index_value(low, "range", column="n_trials") == 12 and index_value(low, "range", column="n_values") == 4
    assert index_value(final, "range", column="n_trials") == 6 and index_value(final, "range", column="n_values") == 2
    assert index_value(low, "range") == pytest.approx(0.4)  # 0.5 - 0.1 at epoch 1
    assert index_value(final, "range") == pytest.approx(0.1)  # 0.5 - 0.4 among the survivors


def test_ranking_agreement_holds_and_flips():
    frame = asha_frame()
    held = ranking_agreement(frame, "mig")
    assert list(held["budget"]) == [1] and list(held["final_budget"]) == [4]
    assert held.iloc[0]["spearman"] == pytest.approx(1.0) and held.iloc[0]["n_trials"] == 6
    quality = {1.0: 0.4, 10.0: 0.5, 100.0: 0.2, 1000.0: 0.1}
    flipped = grid_frame(lambda g, s, e: (quality[g] + 0.01 * s) * (1 if e == 1 else -1))
    result = ranking_agreement(flipped, "mig", budgets={"factor_vae": [1, 2]})
    assert list(result["budget"]) == [1, 2]
    assert result.iloc[0]["spearman"] == pytest.approx(-1.0) and result.iloc[0]["n_trials"] == 16
    assert result.iloc[1]["spearman"] == pytest.approx(1.0)
    tiny = ranking_agreement(grid_frame(lambda g, s, e: g * e, gammas=(1.0, 10.0), seeds=[0]), "mig", budgets={"factor_vae": [1]})
    assert np.isnan(tiny.iloc[0]["spearman"]) and "fewer than 3" in tiny.iloc[0]["note"]


# ---------------------------------------------------------------------------- importance


def two_weight_frame(response, *, a_values=(0.1, 0.3, 1.0, 3.0, 10.0), b_values=(0.1, 0.3, 1.0, 3.0, 10.0), seeds=range(2)):
    rows = []
    for a in a_values:
        for b in b_values:
            for seed in seeds:
                rows += trial_rows(f"a{a}-b{b}-s{seed}", {"a": a, "b": b}, seed, [response(a, b, seed)], epochs=1, method="rf_vae")
    return pd.DataFrame(rows)


def test_importance_finds_the_weight_the_metric_depends_on():
    frame = two_weight_frame(lambda a, b, s: -(math.log10(a) - 0.5) ** 2 + noise(s + int(100 * b), 0.01))
    table = weight_importance(frame, "mig", guided=False)
    for evaluator in ("fanova", "ped_anova"):
        rows = table[table["evaluator"] == evaluator].set_index("weight")
        assert rows.loc["a", "importance"] > rows.loc["b", "importance"], evaluator
        assert rows["importance"].sum() == pytest.approx(1.0)
    assert set(table["n_trials"]) == {50}
    assert set(table["caveat"]) == {"none: trials from a grid or quasi-random design"}
    assert weight_importance(frame, "mig", guided=True, evaluators=("fanova",))["caveat"].str.contains("biased").all()


def test_importance_degenerate_inputs_give_nan_with_a_reason():
    four = two_weight_frame(lambda a, b, s: a, a_values=(0.1, 1.0), b_values=(1.0, 10.0), seeds=[0])
    few = four[four["trial_id"] != "a1.0-b10.0-s0"]
    table = weight_importance(few, "mig", guided=False)
    assert table["importance"].isna().all() and table["note"].str.contains("only 3 trials").all()
    constant = weight_importance(two_weight_frame(lambda a, b, s: 0.5), "mig", guided=False)
    assert constant["importance"].isna().all() and constant["note"].str.contains("constant").all()
    single = weight_importance(grid_frame(lambda g, s, e: g), "mig", guided=False)
    assert (single["importance"] == 1.0).all() and single["note"].str.contains("trivially").all()


def test_importance_excludes_and_counts_diverged_trials():
    frame = two_weight_frame(lambda a, b, s: -(math.log10(a) - 0.5) ** 2 + noise(s + int(100 * b), 0.01))
    diverging = frame["config/weights/a"].eq(10.0) & frame["config/seed"].eq(0)
    frame.loc[diverging, ["mig", "diverged", "status"]] = [math.nan, True, "diverged"]
    table = weight_importance(frame, "mig", guided=False, evaluators=("fanova",))
    assert set(table["n_diverged"]) == {5} and set(table["n_trials"]) == {45}
    assert table["importance"].notna().all()


# ---------------------------------------------------------------------------- validation


def test_inputs_are_validated_with_clear_errors():
    frame = grid_frame(lambda g, s, e: 0.5)
    with pytest.raises(ValueError, match="unknown metric 'nope'"):
        sensitivity_indices(frame, "nope")
    with pytest.raises(ValueError, match="mode must be 'max' or 'min'"):
        sensitivity_indices(frame, "mig", mode="up")
    with pytest.raises(ValueError, match=r"lacks the column\(s\) \['config/seed'\]"):
        sensitivity_indices(frame.drop(columns=["config/seed"]), "mig")
    with pytest.raises(ValueError, match="unknown evaluator"):
        weight_importance(frame, "mig", guided=False, evaluators=("shap",))
    with pytest.raises(ValueError, match="positive"):
        sensitivity_indices(frame.assign(**{"config/weights/gamma": 0.0}), "mig")


def test_evaluated_budgets_are_the_epochs_with_a_metric():

    rows = []
    for trial, (method, seed) in enumerate([("a", 0), ("a", 1), ("b", 0)]):
        for epoch in (1, 2, 3, 4):
            rows.append({"trial_id": f"t{trial}", "status": "finished", "epoch": epoch, "config/method": method, "config/weighting": "fixed",
                         "config/seed": seed, "config/epochs": 4, "config/weights/g": 1.0, "mig": 0.1 * epoch if epoch % 2 == 0 or method == "b" else float("nan")})
    assert evaluated_budgets(pd.DataFrame(rows), "mig") == {"a": [2, 4], "b": [1, 2, 3, 4]}
