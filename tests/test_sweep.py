"""Integration: real sweeps on local Ray (slow: starts Ray once for the module)."""

import json
import re
from pathlib import Path

import pytest
import ray

from study.launch import init_ray, run_study
from study.spec import parse_spec

pytestmark = pytest.mark.slow

SPRITES = {"name": "dsprites", "options": {"resolution": 16, "sizes": {"scale": 2, "orientation": 2, "position_x": 4, "position_y": 4}}, "eval_size": 60}
TINY = {"lr": 0.001, "disc_hidden": 32, "disc_layers": 2}


@pytest.fixture(scope="module")
def local_ray():
    init_ray(num_cpus=2)
    yield
    ray.shutdown()


def test_optuna_asha_sweep_writes_the_tidy_table(local_ray, tmp_path):
    spec = parse_spec(
        {
            "name": "optuna-asha",
            "dataset": SPRITES,
            "methods": [{"name": "factor_vae", "weighting": ["fixed", "adaptive"], "weights": {"gamma": {"low": 1, "high": 50}}, "options": TINY}],
            "seeds": [0, 1],
            "search": {"kind": "optuna", "samples": 5},
            "scheduler": {"kind": "asha", "grace_period": 1, "reduction_factor": 2},
            "metric": "recon_bce",
            "epochs": 3,
            "batch_size": 32,
            "max_concurrent": 2,
        }
    )
    experiment, tidy = run_study(spec, storage_path=str(tmp_path))
    experiment = Path(experiment)
    assert (experiment / "tidy.csv").exists()
    assert tidy["trial_id"].nunique() == 5
    for column in ["trial_id", "status", "epoch", "config/method", "config/weighting", "config/weights/gamma", "config/seed",
                   "recon_bce", "recon_mse", "mig", "cluster_acc", "weight/gamma", "disc_acc/tc", "loss/total"]:
        assert column in tidy.columns, column
    epochs = tidy.groupby("trial_id")["epoch"].max()
    assert epochs.max() == 3 and epochs.min() >= 1  # ASHA may stop trials after the grace period
    assert (tidy.groupby("trial_id").size() == epochs).all()  # one row per trial and epoch
    assert set(tidy["status"]) <= {"finished", "early_stopped"}  # Tune's state found each renamed trial folder
    assert all(re.fullmatch(r"factor_vae-(fixed|adaptive)-gamma=[0-9.e+-]+-seed=[01]-\w+", d) for d in tidy["trial_dir"]), set(tidy["trial_dir"])
    assert tidy["recon_bce"].notna().all()
    # the searcher's study lives in SQLite beside the results, readable by Optuna (and its dashboard)
    import optuna

    study = optuna.load_study(study_name=experiment.name, storage=f"sqlite:///{experiment / 'optuna.db'}")
    assert len(study.trials) == 5
    # a trial ASHA stopped is PRUNED in Optuna's study, with its last epoch's value; finished ones COMPLETE
    final = tidy.sort_values("epoch").groupby("trial_id").last()
    expected = sorted(("PRUNED" if status == "early_stopped" else "COMPLETE", round(value, 4)) for status, value in zip(final["status"], final["recon_bce"]))
    assert sorted((t.state.name, round(t.value, 4)) for t in study.trials) == expected
    assert json.loads((experiment / "study_run.json").read_text())["optuna_storage"].startswith("sqlite:///")


def test_grid_sweep_runs_every_planned_trial(local_ray, tmp_path):
    spec = parse_spec(
        {
            "name": "grid",
            "dataset": SPRITES,
            "methods": [
                {"name": "factor_vae", "weighting": ["fixed", "adaptive"], "weights": {"gamma": {"values": [2, 20]}}, "options": TINY},
                {"name": "beta_vae", "weights": {"beta": {"values": [1]}}, "options": {"lr": 0.001}},
            ],
            "seeds": [0],
            "epochs": 2,
            "batch_size": 32,
        }
    )
    experiment, tidy = run_study(spec, storage_path=str(tmp_path))
    experiment = Path(experiment)
    final = tidy.groupby("trial_id").tail(1)
    assert len(final) == 5 and (final["status"] == "finished").all()
    assert sorted(final["config/method"]) == ["beta_vae"] + ["factor_vae"] * 4
    fixed = final[(final["config/weighting"] == "fixed") & (final["config/method"] == "factor_vae")]
    assert sorted(fixed["weight/gamma"]) == [2.0, 20.0]
    # trial folders are named by what varies (study.trial_names), and the tidy loader still finds them
    for _, row in final.iterrows():
        pattern = rf"{row['config/method']}-{row['config/weighting']}-(gamma|beta)=[0-9.e+-]+-seed={row['config/seed']}-{row['trial_id']}"
        assert re.fullmatch(pattern, row["trial_dir"]), row["trial_dir"]
    # every finished trial drew its pictures, and Tune carried them to the experiment's storage
    for trial_dir in final["trial_dir"]:
        assert (experiment / trial_dir / "reconstructions.png").stat().st_size > 0
        assert (experiment / trial_dir / "traversals.png").stat().st_size > 0
    # the spec and the run's provenance are kept beside Tune's files, as JSON
    saved = json.loads((experiment / "study_spec.json").read_text())
    assert saved["name"] == "grid" and saved["epochs"] == 2
    run = json.loads((experiment / "study_run.json").read_text())
    recorded_minutes = run["duration_s"] / 60  # provenance, not a speed check
    assert recorded_minutes > 0 and run["commit"] and "cores" in run["machine"]


def test_local_ray_listens_on_loopback_only(local_ray):
    import psutil

    services = [p for p in psutil.Process().children(recursive=True) if p.name() in ("gcs_server", "raylet")]
    assert {p.name() for p in services} == {"gcs_server", "raylet"}
    listening = [c.laddr.ip for p in services for c in p.net_connections(kind="tcp") if c.status == psutil.CONN_LISTEN]
    assert listening and all(ip in ("127.0.0.1", "::ffff:127.0.0.1") for ip in listening), listening



def test_results_go_to_a_storage_uri(local_ray, tmp_path):
    """A storage URI (here file://, the same code path as s3:// or gs://): Tune's trials and the
    study's own files land there, and the report reads them back through the URI."""
    spec = parse_spec(
        {
            "name": "uri",
            "dataset": SPRITES,
            "methods": [{"name": "beta_vae", "weights": {"beta": {"values": [1, 4]}}, "options": {"lr": 0.001}}],
            "seeds": [0],
            "epochs": 1,
            "batch_size": 32,
        }
    )
    experiment, tidy = run_study(spec, storage_path=f"file://{tmp_path}/bucket")
    assert experiment.startswith("file://") and len(tidy) == 2
    folder = next((tmp_path / "bucket").glob("uri-*"))
    assert {"study_spec.json", "study_run.json", "tidy.csv", "summary.csv"} <= {p.name for p in folder.iterdir()}
    assert len([p for p in folder.iterdir() if (p / "params.json").exists()]) == 2
    from study.cli import main

    assert main(["report", experiment, "--out", str(tmp_path / "report")]) == 0
    assert (tmp_path / "report" / "report.html").stat().st_size > 0


def test_the_printed_summary_leads_with_the_specs_metric_and_keeps_option_variants_apart(local_ray, tmp_path, capsys):
    import yaml

    from study.cli import main

    entries = [{"name": "beta_vae", "weights": {"beta": {"values": [4]}}, "options": {"lr": lr}} for lr in (0.001, 0.0001)]
    spec_file = tmp_path / "variants.yaml"
    spec_file.write_text(yaml.safe_dump({"name": "variants", "dataset": SPRITES, "methods": entries, "seeds": [0],
                                         "metric": "dci_disentanglement", "epochs": 1, "batch_size": 32}))
    assert main(["run", str(spec_file), "--storage-path", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    header = next(line for line in printed.splitlines() if line.lstrip().startswith("method"))
    assert "options/lr" in header and header.index("dci_disentanglement mean") < header.index("mig mean")
    summary = next((tmp_path / "out").glob("variants-*")) / "summary.csv"
    import pandas as pd

    table = pd.read_csv(summary)
    assert sorted(table["options/lr"]) == [0.0001, 0.001] and table["trials"].tolist() == [1, 1]
