"""Bad input, table-driven through the `study` command: each case exits with code 2 and a message
naming the problem, starts no trial, and leaves every existing file as it was."""

import hashlib
import json
import re
from pathlib import Path

import pytest
import yaml

from study.cli import main

SPRITES = {"name": "dsprites", "options": {"resolution": 16, "sizes": {"scale": 2, "orientation": 2, "position_x": 4, "position_y": 4}}}
SMALL_D = {"disc_hidden": 64, "disc_layers": 2}  # a small discriminator keeps the weight-effect check quick
GOOD = {"name": "t", "dataset": SPRITES, "methods": [{"name": "factor_vae", "weights": {"gamma": {"values": [2, 20]}}, "options": SMALL_D}], "seeds": [0], "epochs": 1}
TWO = {"values": [1, 4]}


def spec(**changes):
    return {**GOOD, **changes}


def method(**changes):
    return [{**GOOD["methods"][0], **changes}]


def write_spec(tmp, content):
    path = tmp / "spec.yaml"
    path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
    return path


def run_with(content):
    return lambda tmp: ["run", str(write_spec(tmp, content)), "--storage-path", str(tmp / "results")]


def fake_experiment(tmp, *, spec_text=None, tune_state=None, trials=True, modes=("fixed",)):
    """An experiment folder made of the files `study run` and Tune write, with the parts a case needs."""
    folder = tmp / "results" / "exp-1"
    folder.mkdir(parents=True)
    if spec_text is not None:
        (folder / "study_spec.json").write_text(spec_text)
    if tune_state is not None:
        (folder / "experiment_state-2026-01-01_00-00-00.json").write_text(tune_state)
        (folder / "tuner.pkl").write_bytes(b"not a pickle")
    if trials:
        for i, mode in enumerate(modes):
            trial = folder / f"trial_{i}"
            trial.mkdir()
            config = {"method": "factor_vae", "weighting": mode, "weights": {"gamma": 2.0}, "seed": 0, "epochs": 1}
            (trial / "params.json").write_text(json.dumps(config))
            (trial / "result.json").write_text(json.dumps({"training_iteration": 1, "mig": 0.1, "trial_id": f"t{i}"}) + "\n")
    return folder


def foreign_experiment(tmp, config):
    """A Tune experiment run outside `study run`: trial folders whose configs carry what they carry."""
    folder = tmp / "results" / "foreign"
    for seed in (0, 1):
        trial = folder / f"trial_{seed}"
        trial.mkdir(parents=True)
        (trial / "params.json").write_text(json.dumps({**config, "seed": seed} if "seed" in config else config))
        (trial / "result.json").write_text(json.dumps({"training_iteration": 1, "mig": 0.1 + seed, "trial_id": f"t{seed}"}) + "\n")
    return folder


def experiment_written_by_a_live_run(tmp):
    """An experiment whose driver.json names a live process on this machine (this test's own)."""
    import platform

    import psutil

    folder = fake_experiment(tmp, spec_text=json.dumps(GOOD), tune_state="{}")
    me = psutil.Process()
    (folder / "driver.json").write_text(json.dumps({"host": platform.node(), "pid": me.pid, "created": me.create_time(), "started": "now"}))
    return ["resume", str(folder)]


def report_into_foreign_folder(tmp):
    experiment = fake_experiment(tmp)
    out = tmp / "results" / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    return ["report", str(experiment), "--out", str(out)]


CASES = [
    ("unknown method", run_with(spec(methods=method(name="vae_9000"))), r"unknown method 'vae_9000'"),
    ("unknown dataset", run_with(spec(dataset={"name": "imagenet"})), r"unknown dataset 'imagenet'"),
    ("wrong type", run_with(spec(epochs="ten")), r"epochs"),
    ("unknown key", run_with(spec(colour="red")), r"colour: unknown key"),
    ("inverted range", run_with(spec(methods=method(weights={"gamma": {"low": 10, "high": 1}}))), r"inverted range"),
    ("weight of another method", run_with(spec(methods=method(weights={"beta": {"values": [1]}}))), r"no weight 'beta'"),
    ("grid too large for the budget", run_with(spec(seeds=[0, 1, 2], max_trials=4)), r"6 trials, more than max_trials 4"),
    ("a design of millions of trials", run_with(spec(methods=method(weights={"gamma": {"low": 1, "high": 10, "points": 1000000}}))),
     r"1,000,000 trials, more than the default cap.*max_trials: 1000000"),
    ("a study name in another script", run_with(spec(name="étude-Δ")), r"name: String should match pattern"),
    ("a key written twice", run_with(yaml.safe_dump(GOOD) + "epochs: 2\n"), r"key 'epochs' is given twice"),
    ("spec path is a folder", lambda tmp: ["run", str(tmp)], r"is a folder"),
    ("batch larger than the training split", run_with(spec(batch_size=100)), r"batch_size: a step of factor_vae takes 200 images \(2 batches a step\), more than the 173 training images"),
    ("a metric no chosen method reports", run_with(spec(metric="disc_acc/adv")), r"metric 'disc_acc/adv' is not reported by factor_vae; they report .*disc_acc/tc"),
    ("adaptive without a discriminator", run_with(spec(methods=[{"name": "beta_vae", "weighting": ["adaptive"]}])), r"no discriminator"),
    ("option a method refuses", run_with(spec(methods=[{"name": "aae", "options": {"clusters": 1}}])), r"at least 2 clusters"),
    ("sweeping a weight Adam cancels", run_with(spec(methods=[{"name": "aae", "weights": {"adv_weight": TWO}, "options": {"update": "phased", "hidden": 64}}])),
     r"sweeps adv_weight, which cannot act under options.*update.*phased.*floor"),
    ("sweeping a weight its options switch off", run_with(spec(methods=[{"name": "beta_vae", "weights": {"gamma": TWO}}])),
     r"sweeps gamma, which cannot act"),
    ("sweeping every weight of a ratio-only loss", run_with(spec(methods=[{"name": "ame_ae", "weights": {"lambda_dis": TWO, "lambda_rec": TWO}}])),
     r"sweeps every weight of ame_ae.*only on their ratios.*Hold one fixed as the reference"),
    ("unknown dataset option", run_with(spec(dataset={"name": "dsprites", "options": {"colour": 1}})), r"dsprites has no option"),
    ("missing data files", lambda tmp: run_with(spec(dataset={"name": "mnist", "options": {"root": str(tmp / "nodata")}}))(tmp), r"MNIST/raw"),
    ("bad optuna storage", run_with(spec(search={"kind": "optuna", "samples": 2, "storage": "redis://x"})), r"search.storage"),
    ("optuna database unreachable", run_with(spec(search={"kind": "optuna", "samples": 2, "storage": "postgresql://user:s3cret@127.0.0.1:9/db"})),
     r"postgresql://user:\*\*\*@127.0.0.1:9/db: cannot connect within 5 s"),
    ("optuna database driver missing", run_with(spec(search={"kind": "optuna", "samples": 2, "storage": "mysql://user@127.0.0.1/db"})),
     r"search.storage mysql://user@127.0.0.1/db: its database driver is not installed"),
    ("storage path is a file", lambda tmp: ["run", str(write_spec(tmp, GOOD)), "--storage-path", str(tmp / "spec.yaml" / "results")],
     r"storage path .*spec.yaml is a file, not a folder"),
    ("fault seeds not in the study", run_with(spec(fault_injection={"raise_at_epoch": 1, "seeds": [7]})), r"fault_injection.seeds"),
    ("more CPUs than any node", run_with(spec(resources={"cpu": 64})), r"asks for 64 CPU.*no node"),
    ("a GPU on a CPU cluster", run_with(spec(resources={"cpu": 1, "gpu": 1})), r"1 GPU.*no node"),
    ("unsupported storage URI", lambda tmp: ["run", str(write_spec(tmp, GOOD)), "--storage-path", "nosuchscheme://bucket/x"], r"storage path"),
    ("spec file missing", lambda tmp: ["run", str(tmp / "absent.yaml")], r"absent.yaml"),
    ("YAML syntax error", run_with("name: [unclosed\n"), r"YAML|yaml|parse"),
    ("YAML python tag", run_with("name: !!python/object/apply:os.getcwd []\n"), r"python/object"),
    ("resume: not an experiment", lambda tmp: ["resume", str((tmp / "results").mkdir() or tmp / "results")], r"no study_spec.json"),
    ("resume: no Tune state", lambda tmp: ["resume", str(fake_experiment(tmp, spec_text=json.dumps(GOOD)))], r"no Tune experiment state"),
    ("resume: unreadable spec", lambda tmp: ["resume", str(fake_experiment(tmp, spec_text="{broken"))], r"not readable JSON"),
    ("resume: foreign Tune state", lambda tmp: ["resume", str(fake_experiment(tmp, spec_text=json.dumps(GOOD), tune_state="{garbage"))], r"cannot resume|unreadable"),
    ("resume: a live run is writing it", experiment_written_by_a_live_run, r"is being written by a live run \(pid \d+ on this machine"),
    ("report: not an experiment", lambda tmp: ["report", str((tmp / "results").mkdir() or tmp / "results"), "--out", str(tmp / "r")], r"no trial directories"),
    ("report: unknown metric", lambda tmp: ["report", str(fake_experiment(tmp)), "--metric", "nope", "--out", str(tmp / "r")], r"nope"),
    ("compare: nothing run both ways", lambda tmp: ["compare", str(fake_experiment(tmp)), "--out", str(tmp / "r")], r"no method was run both fixed and adaptive"),
    ("report: configs without method or seed", lambda tmp: ["report", str(foreign_experiment(tmp, {"weights": {"gamma": 2.0}})), "--out", str(tmp / "r")],
     r"lack method, seed: the analysis needs each trial's method, seed and weights"),
    ("report into a folder of other files", report_into_foreign_folder, r"holds other files.*nothing was overwritten"),
]


def snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir" for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize("argv,message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_exits_2_names_the_problem_and_changes_nothing(tmp_path, capsys, argv, message):
    args = argv(tmp_path)
    before = snapshot(tmp_path)
    assert main(args) == 2
    stderr = capsys.readouterr().err
    assert "error:" in stderr, stderr
    error = stderr[stderr.index("error:"):]  # Ray may print a banner first
    assert re.search(message, error), error
    assert "s3cret" not in stderr  # passwords are never printed
    assert snapshot(tmp_path) == before  # nothing written: no experiment, no report, no file touched
    assert not list(tmp_path.rglob("study_run.json"))  # no trial was started


def test_the_table_has_at_least_twenty_cases():
    assert len(CASES) >= 20


def test_a_foreign_tune_experiment_without_epochs_or_weighting_is_reported(tmp_path):
    """Configs with method, weights and seed only (no epochs, no weighting): the report runs."""
    experiment = foreign_experiment(tmp_path, {"method": "factor_vae", "weights": {"gamma": 2.0}, "seed": 0})
    assert main(["report", str(experiment), "--out", str(tmp_path / "r")]) == 0
    assert "not recorded" in (tmp_path / "r" / "report.md").read_text()


def test_valid_specs_the_data_shapes_are_run_with_a_note(capsys):
    """Valid, so not refused, but said before the run: a smaller evaluation set than asked, fewer
    categories than classes, factors that take one value."""
    from study.cli import _say_data_notes
    from study.launch import load_data
    from study.spec import parse_spec

    digits = parse_spec({"name": "n", "dataset": {"name": "digits", "eval_size": 5000}, "epochs": 1, "seeds": [0],
                         "methods": [{"name": "infoae", "options": {"categories": 5, "hidden": 32}}]})
    _say_data_notes(digits, load_data(digits))
    out = capsys.readouterr().out
    assert "eval_size is 5000, but the test split has 359 images" in out
    assert "infoae has 5 categories for 10 classes" in out
    sprites = parse_spec({**GOOD, "dataset": {"name": "dsprites", "options": {"resolution": 16, "sizes": {"shape": 1, "scale": 2, "orientation": 2, "position_x": 4, "position_y": 4}}}})
    _say_data_notes(sprites, load_data(sprites))
    assert "shape take(s) one value in the evaluation set; disentanglement metrics score scale, orientation, position_x, position_y" in capsys.readouterr().out
