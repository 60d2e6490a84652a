"""Trial folders are named by method, weighting, starting weights and seed, safely and briefly."""

from __future__ import annotations

import pickle
import re
from types import SimpleNamespace

import pytest

from study.spec import parse_spec
from study.design import trial_configs
from study.trial_names import MAX_LENGTH, TrialNamer, trial_folder_name

SAFE = re.compile(r"^[A-Za-z0-9._=+~-]+$")


def test_a_planned_config_reads_as_its_varying_parts():
    config = {"method": "factor_vae", "weighting": "adaptive", "weights": {"gamma": 20.0}, "seed": 3,
              "batch_size": 64, "controller": {"scale": 0.99, "target": 0.75}, "epochs": 8}
    assert trial_folder_name(config, "a1b2c3d4") == "factor_vae-adaptive-gamma=20-seed=3-a1b2c3d4"


def test_tune_calls_it_with_the_trial_and_only_swept_weights_are_named():
    namer = TrialNamer({"beta_vae": ["beta"], "factor_vae": []})
    trial = SimpleNamespace(config={"method": "beta_vae", "weighting": "fixed", "weights": {"beta": 4.6415888, "gamma": 5.0}, "seed": 0},
                            trial_id="0f0f0f0f")
    assert namer(trial) == "beta_vae-fixed-beta=4.64-seed=0-0f0f0f0f"
    trial.config = {"method": "factor_vae", "weighting": "adaptive", "weights": {"gamma": 35.0}, "seed": 2}
    assert namer(trial) == "factor_vae-adaptive-seed=2-0f0f0f0f"  # nothing swept: the defaults do not vary
    trial.config = {"method": "imae", "weighting": "fixed", "weights": {"beta": 5.0, "gamma": 5.0}, "seed": 2}
    assert namer(trial) == "imae-fixed-beta=5-gamma=5-seed=2-0f0f0f0f"  # a method it was not told about: every weight


def test_the_namer_of_a_spec_unites_the_entries_of_a_method_and_pickles():
    spec = parse_spec({
        "name": "t", "epochs": 1, "seeds": [0], "dataset": {"name": "dsprites"},
        "methods": [{"name": "beta_vae", "weights": {"gamma": {"values": [1, 2]}}},
                    {"name": "beta_vae", "weights": {"beta": {"values": [1, 2]}}, "options": {"lr": 0.001}},
                    {"name": "factor_vae"}],
    })
    namer = TrialNamer.for_spec(spec)
    assert namer.swept == {"beta_vae": ["gamma", "beta"], "factor_vae": []}
    assert pickle.loads(pickle.dumps(namer)).swept == namer.swept  # Tune keeps it in the experiment's state for resume


def test_options_that_differ_between_a_methods_entries_are_named_after_its_weights():
    spec = parse_spec({
        "name": "t", "epochs": 1, "seeds": [0], "dataset": {"name": "digits"},
        "methods": [{"name": "imae", "options": {"tc_weight": tc, "lr": 0.001}} for tc in (0.0, 4.0)] + [{"name": "beta_vae"}],
    })
    namer = TrialNamer.for_spec(spec)
    assert namer.varying_options == {"imae": ["tc_weight"], "beta_vae": []}  # lr is the same in both entries
    names = {namer(SimpleNamespace(config=config, trial_id="0f0f0f0f")) for config in trial_configs(spec)}
    assert names == {"imae-fixed-tc_weight=0-seed=0-0f0f0f0f", "imae-fixed-tc_weight=4-seed=0-0f0f0f0f", "beta_vae-fixed-seed=0-0f0f0f0f"}
    older = pickle.loads(pickle.dumps(namer))
    del older.varying_options  # a namer pickled by an older version, as `study resume` may find it
    assert older(SimpleNamespace(config=trial_configs(spec)[0], trial_id="0f0f0f0f")) == "imae-fixed-seed=0-0f0f0f0f"


def test_weights_nested_or_flattened_and_compact():
    """Optuna's define-by-run configs carry the weights nested, with flat `<method>.<weight>` keys beside them."""
    nested = {"method": "imae", "weighting": "fixed", "weights": {"beta": 0.000123456, "gamma": 12345.6}, "seed": 1,
              "imae.beta": 0.000123456, "imae.gamma": 12345.6}
    flat = {"method": "imae", "weighting": "fixed", "weights/beta": 0.000123456, "weights/gamma": 12345.6, "seed": 1}
    expected = "imae-fixed-beta=0.000123-gamma=1.23e+04-seed=1-id"
    assert trial_folder_name(nested, "id") == trial_folder_name(flat, "id") == expected


def test_unsafe_characters_are_replaced():
    config = {"method": "my method/β", "weighting": "fixed", "weights": {"λ:1": "a/b\\c*?"}, "seed": "0 1"}
    name = trial_folder_name(config, "id/1")
    assert SAFE.match(name), name
    assert "/" not in name and name.endswith("-id_1")


def test_long_names_are_cut_in_the_weights_keeping_seed_and_id():
    config = {"method": "factor_vae", "weighting": "adaptive", "seed": 12345,
              "weights": {f"weight_with_a_long_name_{i}": 1.0 + i for i in range(20)}}
    name = trial_folder_name(config, "deadbeef")
    assert len(name) <= MAX_LENGTH and SAFE.match(name)
    assert name.startswith("factor_vae-adaptive-weight_with_a_long_name_0=1-")
    assert name.endswith("~-seed=12345-deadbeef")
    assert trial_folder_name({**config, "weights": {"gamma": "x" * 500}}, "deadbeef").endswith("-seed=12345-deadbeef")


def test_a_config_without_the_study_keys_still_gets_a_unique_name():
    assert trial_folder_name({}, "abc") == "abc"
    assert trial_folder_name({"weights": None, "seed": 0}, "abc") == "seed=0-abc"


def test_every_trial_of_a_shipped_design_gets_a_distinct_safe_name():
    spec = parse_spec({
        "name": "t", "epochs": 1, "seeds": [0, 1],
        "dataset": {"name": "dsprites"},
        "methods": [{"name": "factor_vae", "weighting": ["fixed", "adaptive"], "weights": {"gamma": {"low": 1, "high": 100, "points": 3}}},
                    {"name": "beta_vae", "weights": {"beta": {"values": [1, 4]}}}],
    })
    configs = trial_configs(spec)
    names = [trial_folder_name(config, f"{i:08x}") for i, config in enumerate(configs)]
    assert len(set(name.rsplit("-", 1)[0] for name in names)) == len(names)  # the parts alone tell them apart here
    assert all(SAFE.match(name) and len(name) <= MAX_LENGTH for name in names)
    assert "factor_vae-adaptive-gamma=10-seed=1-" in " ".join(names)


@pytest.mark.parametrize("value, text", [(20.0, "20"), (0.5, "0.5"), (1e-5, "1e-05"), (3, "3"), (True, "True")])
def test_compact_values(value, text):
    assert trial_folder_name({"weights": {"w": value}}, "i") == f"w={text}-i"
