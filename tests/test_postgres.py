"""Optuna's searcher state in a real PostgreSQL server that this test starts (Debian's postgresql
package, which .ci/run installs): the study is written there and can be inspected and extended."""

import getpass
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import optuna
import pytest
import ray

from study.launch import init_ray, run_study
from study.spec import parse_spec

pytestmark = pytest.mark.slow

SPRITES = {"name": "dsprites", "options": {"resolution": 16, "sizes": {"scale": 2, "orientation": 2, "position_x": 4, "position_y": 4}}, "eval_size": 60}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    binaries = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    assert binaries, "PostgreSQL is needed (.ci/run installs Debian's postgresql)"
    bin_dir = binaries[-1]
    folder = Path(tempfile.mkdtemp(prefix="pg", dir="/tmp"))
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []  # postgres refuses to run as root
    if as_user:
        shutil.chown(folder, "postgres")
    user = "postgres" if as_user else getpass.getuser()
    data, port = folder / "data", _free_port()
    subprocess.run([*as_user, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", user], check=True, capture_output=True)
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"
    subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"], check=True, capture_output=True)
    try:
        subprocess.run([*as_user, str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", user, "study"], check=True, capture_output=True)
        yield f"postgresql://{user}@127.0.0.1:{port}/study"  # as a user writes it: psycopg 3, the postgres extra
    finally:
        subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def test_optuna_search_keeps_its_study_in_postgresql(postgres_url, tmp_path):
    spec = parse_spec(
        {
            "name": "pg",
            "dataset": SPRITES,
            "methods": [{"name": "beta_vae", "weights": {"beta": {"low": 0.5, "high": 8}}, "options": {"lr": 0.001}}],
            "seeds": [0],
            "search": {"kind": "optuna", "samples": 4, "storage": postgres_url},
            "metric": "recon_bce",
            "epochs": 2,
            "batch_size": 32,
            "max_concurrent": 2,
        }
    )
    init_ray(num_cpus=2)
    try:
        experiment, tidy = run_study(spec, storage_path=str(tmp_path))
    finally:
        ray.shutdown()
    name = Path(experiment).name
    assert name in optuna.get_all_study_names(postgres_url)
    study = optuna.load_study(study_name=name, storage=postgres_url)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == 4
    # the values Optuna holds are the trials' final metric, as the tidy table has it
    final = tidy.sort_values("epoch").groupby("trial_id").tail(1)
    assert sorted(round(t.value, 4) for t in complete) == sorted(round(v, 4) for v in final["recon_bce"])
    assert 0.5 <= study.best_params["beta_vae.beta"] <= 8
    assert "postgresql" in (Path(experiment) / "study_run.json").read_text() and "@127.0.0.1" in (Path(experiment) / "study_run.json").read_text()


def test_a_bad_storage_url_is_refused_before_anything_starts():
    with pytest.raises(Exception, match="storage"):
        parse_spec({"name": "x", "dataset": SPRITES, "methods": [{"name": "beta_vae"}], "seeds": [0], "epochs": 1,
                    "search": {"kind": "optuna", "samples": 2, "storage": "redis://localhost"}})
