import copy
from pathlib import Path
import subprocess
import sys

import pytest
import yaml

from study.cli import main
from study.design import trial_configs
from study.spec import SpecError, parse_spec
from study.spec_files import load_spec, shipped_specs

GOOD = {
    "name": "t",
    "dataset": {"name": "dsprites", "options": {"resolution": 16, "sizes": {"scale": 2, "orientation": 2, "position_x": 4, "position_y": 4}}},
    "methods": [{"name": "factor_vae", "weighting": ["fixed", "adaptive"], "weights": {"gamma": {"low": 1, "high": 100, "points": 3}}}],
    "seeds": [0, 1],
    "epochs": 2,
}


def with_change(path, value):
    spec = copy.deepcopy(GOOD)
    node = spec
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return spec


BAD = [
    (("methods", 0, "name"), "vae_9000", r"methods\[0\].*unknown method 'vae_9000'"),
    (("dataset", "name"), "imagenet", r"dataset.*unknown dataset 'imagenet'"),
    (("methods", 0, "weights"), {"beta": {"low": 1, "high": 2}}, r"methods\[0\].*no weight 'beta'"),
    (("methods", 0, "weights", "gamma"), {"low": 10, "high": 1}, r"methods\[0\]\.weights\.gamma.*inverted range"),
    (("methods", 0, "weights", "gamma"), {"low": 5, "high": 5, "points": 3}, r"weights\.gamma.*empty or inverted"),
    (("methods", 0, "weights", "gamma"), {"low": -1, "high": 5}, r"weights\.gamma.*positive"),
    (("methods", 0, "weights", "gamma"), {"values": []}, r"weights\.gamma.*values is empty"),
    (("methods", 0, "weights", "gamma"), {"values": [1, -2]}, r"weights\.gamma.*positive"),
    (("methods", 0, "colour"), "red", r"methods\[0\]\.colour: unknown key"),
    (("learning_rate",), 0.1, r"learning_rate: unknown key"),
    (("methods", 0, "weighting"), ["sometimes"], r"methods\[0\]\.weighting"),
    (("epochs",), 0, r"epochs"),
    (("epochs",), "ten", r"epochs"),
    (("seeds",), [], r"seeds"),
    (("seeds",), [1, 1], r"seeds.*distinct"),
    (("methods",), [], r"methods"),
    (("metric",), "happiness", r"metric 'happiness' is not reported"),
    (("search",), {"kind": "optuna"}, r"search.*needs samples"),
    (("scheduler",), {"kind": "hyperband"}, r"scheduler\.kind"),
    (("methods", 0, "options"), {"depth": 3}, r"factor_vae has no option"),
    (("methods", 0, "controller"), {"scale": 2.0}, r"controller scale must be in \(0, 1\)"),
    (("methods", 0, "controller"), {"speed": 2.0}, r"controller has no setting"),
    (("dataset", "options"), {"colour": 1}, r"dsprites has no option"),
    (("resources",), {"cpu": -1}, r"resources\.cpu"),
    (("dataset",), KeyError, r"dataset: Field required"),

]


@pytest.mark.parametrize("path,value,message", BAD, ids=[m for _, _, m in BAD])
def test_bad_spec_names_the_field(path, value, message):
    with pytest.raises(SpecError, match=message):
        parse_spec(with_change(path, value))


def test_asha_on_an_evaluated_metric_needs_every_epoch():
    spec = {**GOOD, "scheduler": {"kind": "asha"}, "eval_every": 2}
    with pytest.raises(SpecError, match="eval_every must be 1"):
        parse_spec(spec)


def test_adaptive_on_a_method_without_discriminator():
    spec = with_change(("methods", 0), {"name": "beta_vae", "weighting": "adaptive"})
    with pytest.raises(SpecError, match="beta_vae has no discriminator"):
        parse_spec(spec)


@pytest.mark.parametrize("entry,message", [
    ({"name": "factor_vae", "weighting": "fixed", "controller": {"interval": 5}}, r"controller: settings of the adaptive controller, which this entry never runs"),
    ({"name": "infoae", "weighting": ["fixed"], "options": {"controller_signal": "pair"}}, r"controller_signal: settings of the adaptive controller"),
])
def test_controller_settings_with_fixed_weighting_alone_are_refused(entry, message):
    """They would do nothing; with an adaptive or annealed arm beside the fixed one they steer that arm."""
    with pytest.raises(SpecError, match=message):
        parse_spec(with_change(("methods", 0), entry))
    for modes in (["fixed", "adaptive"], "annealed"):
        parse_spec(with_change(("methods", 0), {**entry, "weighting": modes}))


@pytest.mark.parametrize("path,value,message", BAD[:4], ids=[m for _, _, m in BAD[:4]])
def test_cli_exits_2_and_starts_nothing(tmp_path, capsys, path, value, message):
    spec_file = tmp_path / "bad.yaml"
    spec_file.write_text(yaml.safe_dump(with_change(path, value)))
    storage = tmp_path / "results"
    assert main(["run", str(spec_file), "--storage-path", str(storage)]) == 2
    assert "error:" in capsys.readouterr().err
    assert not storage.exists()


def test_cli_missing_data_exits_2(tmp_path, capsys):
    spec = {**GOOD, "dataset": {"name": "mnist", "options": {"root": str(tmp_path)}}}
    spec_file = tmp_path / "mnist.yaml"
    spec_file.write_text(yaml.safe_dump(spec))
    assert main(["run", str(spec_file), "--storage-path", str(tmp_path / "r")]) == 2
    assert "MNIST" in capsys.readouterr().err


def test_unknown_spec_name_exits_2(capsys):
    assert main(["run", "no-such-spec"]) == 2
    assert "quickstart" in capsys.readouterr().err


def test_grid_design_pairs_fixed_and_adaptive_starts():
    configs = trial_configs(parse_spec(GOOD))
    assert len(configs) == 2 * 3 * 2
    starts = {(c["weights"]["gamma"], c["seed"]) for c in configs if c["weighting"] == "fixed"}
    assert starts == {(c["weights"]["gamma"], c["seed"]) for c in configs if c["weighting"] == "adaptive"}
    assert sorted({round(c["weights"]["gamma"], 6) for c in configs}) == [1.0, 10.0, 100.0]


@pytest.mark.parametrize("change", [
    {},
    {"search": {"kind": "quasi_random", "samples": 5}},
    {"methods": [{"name": "factor_vae", "weights": {"gamma": {"values": [1, 2, 4, 8]}}}, {"name": "beta_vae"}], "seeds": [0, 1, 2]},
    {"methods": [{"name": "beta_vae", "weights": {"beta": {"low": 1, "high": 8, "points": 2}}},
                 {"name": "factor_vae", "weighting": "adaptive", "weights": {"gamma": {"low": 1, "high": 9, "points": 3}}}]},
])
def test_the_counted_trials_are_the_designed_trials(change):
    """The cap check counts without building the design: the count must be the design's size."""
    spec = parse_spec({**GOOD, **change})
    assert spec.planned_trial_count() == len(trial_configs(spec))


def test_quasi_random_design_stays_in_range():
    spec = parse_spec({**GOOD, "search": {"kind": "quasi_random", "samples": 8}})
    gammas = [c["weights"]["gamma"] for c in trial_configs(spec)]
    assert len(gammas) == 2 * 8 * 2 and all(1 <= g <= 100 for g in gammas)
    assert len(set(gammas)) == 8


def test_shipped_quickstart_is_valid_and_dry_runs(capsys):
    spec = load_spec("quickstart")
    assert {m.name for m in spec.methods} == {"factor_vae"}
    assert main(["run", "quickstart", "--dry-run"]) == 0
    assert "16 trials" in capsys.readouterr().out


def test_console_script_lists_methods():
    from trainables.methods import METHODS

    out = subprocess.run([sys.executable, "-m", "study.cli", "methods"], capture_output=True, text=True, check=True).stdout
    for name, method in METHODS.items():
        assert f"{name}: " in out
        for source in method.adaptive.values():
            assert f"adaptive from disc_acc/{source}" in out
    assert "adaptive from disc_acc/tc" in out and "fixed only" in out


@pytest.mark.parametrize("name", sorted(shipped_specs()))
def test_every_shipped_spec_is_valid(name):
    spec = load_spec(name)
    assert spec.name == name


@pytest.mark.parametrize(
    "method,message",
    [
        ({"name": "aae", "options": {"clusters": 1}}, "at least 2 clusters"),
        ({"name": "imae", "options": {"categories": 0}}, "categorical code"),
        ({"name": "imae", "options": {"optimizer": "rmsprop"}}, "optimizer"),
        ({"name": "infoae", "options": {}}, "divisible by 4"),
        ({"name": "factor_vae", "options": {"decoder": "pixelcnn"}}, "decoder must be one of"),
    ],
    ids=["one-cluster", "imae-without-categories", "unknown-optimizer", "infoae-on-18px", "unknown-decoder"],
)
def test_option_values_a_method_refuses_exit_2_before_ray(tmp_path, capsys, method, message):
    spec = {**GOOD, "methods": [method]}
    if method["name"] == "infoae":  # 18x18 sprites: sides not divisible by 4
        spec["dataset"] = {"name": "dsprites", "options": {"resolution": 18, "sizes": {"scale": 2, "orientation": 2, "position_x": 4, "position_y": 4}}}
    spec_file = tmp_path / "bad.yaml"
    spec_file.write_text(yaml.safe_dump(spec))
    storage = tmp_path / "results"
    assert main(["run", str(spec_file), "--storage-path", str(storage)]) == 2
    error = capsys.readouterr().err
    assert message in error and f"({method['name']})" in error
    assert not storage.exists()


def test_specs_load_with_a_safe_yaml_loader(tmp_path, capsys):
    marker = tmp_path / "pwned"
    spec_file = tmp_path / "evil.yaml"
    spec_file.write_text(f"name: !!python/object/apply:os.system ['touch {marker}']\n" + yaml.safe_dump({k: v for k, v in GOOD.items() if k != "name"}))
    assert main(["run", str(spec_file), "--dry-run"]) == 2
    assert not marker.exists()
    assert "python/object" in capsys.readouterr().err


def test_a_dry_run_piped_into_head_ends_quietly(tmp_path):
    """`study run SPEC --dry-run | head -1`: the reader closes the pipe early; no traceback, exit 0.
    The plan (1,000 lines listed of 5,000 trials) is larger than a pipe's buffer, so the writer does meet the closed pipe."""

    big = {"name": "big", "dataset": {"name": "digits"}, "seeds": list(range(10)), "epochs": 1, "max_trials": 5000,
           "methods": [{"name": "factor_vae", "weights": {"gamma": {"low": 1, "high": 100, "points": 500}}}]}
    path = tmp_path / "big.yaml"
    path.write_text(yaml.safe_dump(big))
    done = subprocess.run(f"'{sys.executable}' -m study.cli run '{path}' --dry-run | head -1; exit ${{PIPESTATUS[0]}}",
                          shell=True, executable="/bin/bash", capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert done.stdout.startswith("study big")


def test_a_dry_run_lists_at_most_a_thousand_trials(capsys):
    from study.cli import main

    big = {"name": "big", "dataset": {"name": "digits"}, "seeds": list(range(10)), "epochs": 1, "max_trials": 5000,
           "methods": [{"name": "factor_vae", "weights": {"gamma": {"low": 1, "high": 100, "points": 500}}}]}
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.yaml"
        path.write_text(yaml.safe_dump(big))
        assert main(["run", str(path), "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "5000 trials:" in lines and lines[-1].strip() == "... and 4000 more (the first 1000 shown)"
    assert len(lines) < 1010


@pytest.mark.parametrize("metric, mode", [("mig", "max"), ("cluster_acc", "max"), ("recon_bce", "min"), ("tc", "min"), ("loss/total", "min")])
def test_a_spec_without_mode_searches_in_the_metrics_better_direction(metric, mode):
    assert parse_spec({**GOOD, "metric": metric}).mode == mode
    assert parse_spec({**GOOD, "metric": metric, "mode": "min"}).mode == "min"  # a mode given stands


def test_the_plan_shows_options_that_differ_between_entries_of_one_method():
    from study.design import describe_plan

    entry = {"name": "factor_vae", "weights": {"gamma": {"values": [10]}}}
    spec = parse_spec(GOOD | {"seeds": [0], "methods": [entry | {"options": {"disc_layers": 3, "lr": 0.001}},
                                                          entry | {"options": {"disc_layers": 6, "lr": 0.001}}]})
    lines = describe_plan(spec).splitlines()
    assert lines[-2].endswith("disc_layers=3") and lines[-1].endswith("disc_layers=6")
    assert "lr=" not in lines[-1]  # the same in both: not shown
