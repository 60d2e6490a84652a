"""Faults caused for real: trials that raise or run out of memory, a driver killed mid-sweep, a
worker node removed from a live two-node cluster (slow: each test runs Ray)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import ray
import yaml

from analysis import final_rows, load_experiment
from study.launch import init_ray, run_study
from study.spec import parse_spec

pytestmark = pytest.mark.slow

SPRITES = {"name": "dsprites", "options": {"resolution": 16, "sizes": {"scale": 2, "orientation": 2, "position_x": 4, "position_y": 4}}, "eval_size": 60}
TINY = {"lr": 0.001, "disc_hidden": 32, "disc_layers": 2}
REPO = Path(__file__).resolve().parents[1]


def spec_dict(name, **changes):
    spec = {
        "name": name,
        "dataset": SPRITES,
        "methods": [{"name": "factor_vae", "weighting": ["fixed"], "weights": {"gamma": {"values": [2, 20]}}, "options": TINY}],
        "seeds": [0, 1],
        "epochs": 4,
        "batch_size": 32,
        "max_concurrent": 2,
    }
    return spec | changes


def start_driver(tmp_path, spec_file, storage) -> subprocess.Popen:
    """`study run` as a user starts it, in its own session (so a test can kill it, or its group)."""
    env = os.environ | {"PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "study.cli", "run", str(spec_file), "--storage-path", str(storage)],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def result_rows(experiment, trial_dir):
    return [json.loads(line) for line in (Path(experiment) / trial_dir / "result.json").read_text().splitlines() if line.strip()]


@pytest.fixture
def local_ray():
    init_ray(num_cpus=2)
    yield
    ray.shutdown()


def test_a_trial_that_raises_is_retried_from_its_last_checkpoint(local_ray, tmp_path):
    spec = parse_spec(spec_dict("retry", max_failures=1, fault_injection={"raise_at_epoch": 3, "seeds": [1], "times": 1}))
    experiment, tidy = run_study(spec, storage_path=str(tmp_path))
    final = final_rows(tidy)
    assert (final["status"] == "finished").all() and len(final) == 4
    assert (tidy.groupby("trial_id")["epoch"].apply(list) == [[1, 2, 3, 4]] * 4).all()  # each epoch once
    for _, trial in final[final["config/seed"] == 1].iterrows():
        rows = result_rows(experiment, trial["trial_dir"])
        # epochs 1-2 ran, the trial raised entering epoch 3 and was restored from epoch 2's checkpoint:
        # Tune restarts its since-restore counter, so epoch 3 is the first iteration after the restore
        assert [(r["training_iteration"], r["iterations_since_restore"]) for r in rows] == [(1, 1), (2, 2), (3, 1), (4, 2)]


def test_out_of_memory_beyond_the_retry_limit_fails_the_trial_not_the_sweep(local_ray, tmp_path):
    spec = parse_spec(spec_dict("oom", max_failures=1, fault_injection={"raise_at_epoch": 2, "seeds": [1], "kind": "oom"}))
    experiment, tidy = run_study(spec, storage_path=str(tmp_path))
    final = final_rows(tidy).set_index("config/seed")
    assert (final.loc[1, "status"] == "error").all()
    assert final.loc[1, "error"].str.contains("can't allocate memory").all()
    assert (final.loc[0, "status"] == "finished").all() and (final.loc[0, "epoch"] == 4).all()
    assert (final.loc[1, "epoch"] == 1).all()  # the last metrics before the failure are kept


def test_a_diverging_trial_stops_as_diverged_with_its_last_metrics(local_ray, tmp_path):
    spec = parse_spec(spec_dict("diverge", methods=[{"name": "beta_vae", "weights": {"beta": {"values": [1]}}, "options": {"lr": 1e6}}], seeds=[0]))
    _, tidy = run_study(spec, storage_path=str(tmp_path))
    final = final_rows(tidy)
    assert final["status"].tolist() == ["diverged"] and final["epoch"].iloc[0] < 4
    assert tidy["weight/beta"].notna().all()


def test_resume_after_the_driver_is_killed(tmp_path):
    spec_file = tmp_path / "resume.yaml"
    spec_file.write_text(yaml.safe_dump(spec_dict("resume", epochs=6, max_concurrent=1, seeds=[0, 1])))
    storage = tmp_path / "results"
    driver = start_driver(tmp_path, spec_file, storage)
    try:
        deadline = time.time() + 600
        while time.time() < deadline:  # kill once one trial has finished and the next has reported
            done = [p for p in storage.glob("resume-*/*/result.json") if '"done": true' in p.read_text()]
            started = list(storage.glob("resume-*/*/result.json"))
            if done and len(started) >= 2 and any(p not in done and p.read_text().strip() for p in started):
                break
            time.sleep(0.5)
        else:
            pytest.fail("the sweep did not get going")
    finally:
        os.killpg(driver.pid, signal.SIGKILL)  # the driver and the local Ray it started
        driver.wait()
    experiment = next(storage.glob("resume-*"))
    finished_before = {p.parent.name: p.read_text() for p in experiment.glob("*/result.json") if '"done": true' in p.read_text()}

    resumed = subprocess.run([sys.executable, "-m", "study.cli", "resume", str(experiment)], cwd=tmp_path, env=os.environ | {"PYTHONPATH": str(REPO)},
                             capture_output=True, text=True, timeout=900)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    tidy = load_experiment(experiment)
    final = final_rows(tidy)
    assert len(final) == 4 and (final["status"] == "finished").all()
    assert (tidy.groupby("trial_id")["epoch"].apply(list) == [list(range(1, 7))] * 4).all()  # none lost, none twice
    for trial_dir, text in finished_before.items():  # finished trials were not rerun
        assert (experiment / trial_dir / "result.json").read_text() == text
    assert len(json.loads((experiment / "study_run.json").read_text())["resumes"]) == 1


def test_a_worker_node_dies_and_its_trial_finishes_on_the_head(tmp_path, monkeypatch):
    from ray.cluster_utils import Cluster

    import shutil
    import tempfile

    ray_tmp = tempfile.mkdtemp(prefix="rt", dir="/tmp")  # short: Ray's socket paths must fit in 107 bytes
    monkeypatch.setenv("RAY_TMPDIR", ray_tmp)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    worker = cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    storage = tmp_path / "results"
    spec = parse_spec(spec_dict("node-death", epochs=8, max_failures=2))
    removed = []

    def checkpointed_and_running(result: Path) -> bool:
        """Two epochs reported and a checkpoint on disk: the driver has registered epoch 1's checkpoint
        (removing the node after the first report alone raced the save, and the trial restarted from scratch)."""
        lines = [line for line in result.read_text().splitlines() if line.strip()]
        return len(lines) >= 2 and '"done": true' not in lines[-1] and any(result.parent.glob("checkpoint_*"))

    def remove_worker_when_both_nodes_train():
        deadline = time.time() + 600
        while time.time() < deadline:
            running = [p for p in storage.glob("node-death-*/*/result.json") if checkpointed_and_running(p)]
            if len(running) >= 2:  # one trial per 1-CPU node
                cluster.remove_node(worker)
                removed.append(time.time())
                return
            time.sleep(0.2)

    import threading

    killer = threading.Thread(target=remove_worker_when_both_nodes_train, daemon=True)
    try:
        ray.init(address=cluster.address)
        killer.start()
        experiment, tidy = run_study(spec, storage_path=str(storage))
    finally:
        ray.shutdown()
        cluster.shutdown()
        shutil.rmtree(ray_tmp, ignore_errors=True)
    assert removed, "the worker node was never removed"
    final = final_rows(tidy)
    assert len(final) == 4 and (final["status"] == "finished").all()
    assert (tidy.groupby("trial_id")["epoch"].apply(list) == [list(range(1, 9))] * 4).all()
    restored = [t for t in final["trial_dir"] if any(r["iterations_since_restore"] < r["training_iteration"] for r in result_rows(experiment, t))]
    assert restored, "no trial was restored from a checkpoint after the node died"


def test_no_ray_process_outlives_a_killed_driver(tmp_path):
    """SIGKILL to the driver alone (not its process group): the local Ray it started goes with it,
    agents and workers included (without the watchdog, Ray's agents linger about a minute)."""
    import psutil

    spec_file = tmp_path / "orphans.yaml"
    spec_file.write_text(yaml.safe_dump(spec_dict("orphans", epochs=50)))
    storage = tmp_path / "results"
    driver = start_driver(tmp_path, spec_file, storage)
    try:
        deadline = time.time() + 600
        while time.time() < deadline and not any(p.read_text().strip() for p in storage.glob("orphans-*/*/result.json")):
            time.sleep(0.5)
        ray_processes = [p for p in psutil.Process(driver.pid).children(recursive=True) if "ray_watchdog" not in " ".join(p.cmdline())]
        names = {p.name() for p in ray_processes}
        assert any("raylet" in n for n in names) and any(n.startswith("ray::") for n in names), names
    finally:
        driver.kill()  # the driver only: its process group lives on
        driver.wait()
    deadline = time.time() + 30
    alive = ray_processes
    while time.time() < deadline:
        alive = [p for p in ray_processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        if not alive:
            break
        time.sleep(0.5)
    try:
        assert not alive, f"outlived the driver: {[(p.pid, p.name()) for p in alive]}"
    finally:
        for p in alive:
            p.kill()
