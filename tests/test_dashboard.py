"""optuna-dashboard (the `dashboard` extra) serves a study's SQLite storage: the README's
`optuna-dashboard <URL>` is tried for real, on 127.0.0.1, and the study comes back over HTTP."""

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import optuna
import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_optuna_dashboard_serves_a_sqlite_study(tmp_path):
    executable = shutil.which("optuna-dashboard") or str(Path(sys.executable).parent / "optuna-dashboard")
    assert Path(executable).exists(), "optuna-dashboard is in the dev and dashboard extras"
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    study = optuna.create_study(study_name="dash-check", storage=url)
    study.optimize(lambda trial: (trial.suggest_float("gamma", 1, 100, log=True) - 10) ** 2, n_trials=3)
    port = free_port()
    server = subprocess.Popen([executable, url, "--host", "127.0.0.1", "--port", str(port), "--quiet"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline, body = time.monotonic() + 60, None
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies", timeout=5) as response:
                    body = json.loads(response.read())
            except OSError:
                if server.poll() is not None:
                    pytest.fail(f"optuna-dashboard exited: {server.stderr.read().decode()[-500:]}")
                time.sleep(0.5)
        assert body is not None, "optuna-dashboard did not answer within 60 s"
        summaries = body["study_summaries"]
        assert [s["study_name"] for s in summaries] == ["dash-check"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies/{summaries[0]['study_id']}", timeout=5) as response:
            detail = json.loads(response.read())
        assert [t["params"][0]["name"] for t in detail["trials"]] == ["gamma"] * 3
    finally:
        server.terminate()
        server.wait(timeout=30)
