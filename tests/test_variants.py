"""Option variants of one method (a spec listing AAE with 16 and with 30 clusters, say) are analysed apart."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.adaptive import compare_fixed_adaptive
from analysis.sensitivity import sensitivity_indices
from analysis.variants import BASE_NAME, label_option_variants, variants_of
from tests.test_sensitivity import grid_frame, noise


def two_variants() -> pd.DataFrame:
    """factor_vae whose MIG rises with gamma at lr_decay 0.9 and does not move at the default (1.0, left out)."""
    rising = grid_frame(lambda g, s, e: 0.1 * np.log10(g) + noise(s))
    rising["config/options/lr_decay"] = 0.9
    flat = grid_frame(lambda g, s, e: 0.5 + noise(s))
    flat["trial_id"] = "flat-" + flat["trial_id"]
    flat["config/options/lr_decay"] = np.nan  # the entry left the option out: the method's default, 1.0
    return pd.concat([rising, flat], ignore_index=True)


def test_labels_name_only_the_options_that_differ_and_fill_in_defaults():
    frame = two_variants()
    frame["config/options/latent_dim"] = 10  # the same in both entries: not part of the label
    labelled = label_option_variants(frame)
    assert sorted(labelled["config/method"].unique()) == ["factor_vae[lr_decay=0.9]", "factor_vae[lr_decay=1.0]"]
    assert set(labelled[BASE_NAME]) == {"factor_vae"}
    assert variants_of(labelled, "factor_vae") == ["factor_vae[lr_decay=0.9]", "factor_vae[lr_decay=1.0]"]
    assert label_option_variants(labelled) is labelled  # labelling twice changes nothing
    single = grid_frame(lambda g, s, e: 0.5)
    single["config/options/lr_decay"] = 0.9
    assert set(label_option_variants(single)["config/method"]) == {"factor_vae"}


def test_sensitivity_indices_keep_the_variants_apart():
    table = sensitivity_indices(two_variants(), "mig", n_resamples=200)
    ranges = table[(table["index"] == "range") & (table["weight"] == "gamma")].set_index("method")["value"]
    # pooled, one curve would rise by half the rising variant's 0.3; apart, one rises by 0.3 and one is flat
    assert ranges["factor_vae[lr_decay=0.9]"] == pytest.approx(0.3, abs=1e-9)
    assert ranges["factor_vae[lr_decay=1.0]"] == pytest.approx(0.0, abs=1e-9)


def test_a_fixed_vs_adaptive_comparison_refuses_to_pool_variants():
    frame = two_variants()
    adaptive = frame.copy()
    adaptive["config/weighting"] = "adaptive"
    adaptive["trial_id"] = "a-" + adaptive["trial_id"]
    both = pd.concat([frame, adaptive], ignore_index=True)
    with pytest.raises(ValueError, match=r"factor_vae\[lr_decay=0.9\].*factor_vae\[lr_decay=1.0\].*pass method="):
        compare_fixed_adaptive(both, "mig")


def test_ranking_budgets_given_for_a_method_hold_for_each_of_its_variants():
    from analysis.ranking import ranking_agreement, rung_table

    table = ranking_agreement(two_variants(), "mig", budgets={"factor_vae": [1, 2]})
    assert sorted(table["method"].unique()) == ["factor_vae[lr_decay=0.9]", "factor_vae[lr_decay=1.0]"]
    assert set(table["budget"]) == {1, 2}
    with pytest.raises(ValueError, match="no trials of method 'beta_vae'"):
        ranking_agreement(two_variants(), "mig", budgets={"beta_vae": [1]})
    rungs = rung_table(two_variants(), "mig", budgets={"factor_vae": [1, 3]}, n_resamples=50)
    assert sorted(rungs["method"].unique()) == ["factor_vae[lr_decay=0.9]", "factor_vae[lr_decay=1.0]"]


def test_an_option_whose_default_is_none_is_labelled_none_not_nan():
    # aae's gen_lr defaults to None (the reconstruction's rate); an entry that leaves it out is
    # read back from the table as NaN, and its label says None, as the spec means it
    frame = pd.DataFrame({"config/method": ["aae", "aae"], "trial_id": ["a", "b"], "config/options/gen_lr": [0.01, np.nan]})
    assert sorted(label_option_variants(frame)["config/method"]) == ["aae[gen_lr=0.01]", "aae[gen_lr=None]"]
