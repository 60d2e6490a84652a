"""What Ray Tune itself costs per trial and per reported result, and what a second node buys.

1. A trivial class trainable (no work; `reset_config` for actor reuse, as the study's trainable)
   run as 40 trials of 10 results, at 1 and 2 concurrent trials, on a local Ray of 2 CPUs:
   trials per minute, seconds per trial, milliseconds per reported result.
2. One small study (factor_vae on 16x16 dSprites, 8 trials of 3 epochs, one CPU per trial) on a
   local test cluster (`ray.cluster_utils.Cluster`) of one node with 1 CPU, then of two such
   nodes: wall time and the ratio.

    python benchmarks/scheduling_overhead.py --out benchmarks/results/scheduling_overhead.txt
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from study.loopback import keep_local_ray_on_loopback  # noqa: E402

keep_local_ray_on_loopback()

import ray  # noqa: E402
from ray import tune  # noqa: E402

from study.launch import init_ray, run_study  # noqa: E402
from study.spec import parse_spec  # noqa: E402

TRIALS, RESULTS = 40, 10


class Trivial(tune.Trainable):
    def setup(self, config):
        self.i = 0

    def step(self):
        self.i += 1
        return {"x": self.i, "done": self.i >= RESULTS}

    def reset_config(self, new_config):
        self.i = 0
        return True


def trivial_sweep(concurrent: int, storage: str) -> float:
    tuner = tune.Tuner(
        Trivial,
        param_space={"k": tune.grid_search(list(range(TRIALS)))},
        tune_config=tune.TuneConfig(max_concurrent_trials=concurrent, reuse_actors=True),
        run_config=tune.RunConfig(storage_path=storage, name=f"trivial-{concurrent}", verbose=0),
    )
    started = time.perf_counter()
    tuner.fit()
    return time.perf_counter() - started


STUDY = {
    "name": "nodes",
    "dataset": {"name": "dsprites", "options": {"resolution": 16, "sizes": {"scale": 2, "orientation": 2, "position_x": 4, "position_y": 4}}, "eval_size": 60},
    "methods": [{"name": "factor_vae", "weights": {"gamma": {"values": [2, 5, 10, 20]}}, "options": {"lr": 0.001, "disc_hidden": 32, "disc_layers": 2}}],
    "seeds": [0, 1],
    "epochs": 3,
    "batch_size": 32,
    "resources": {"cpu": 1},
}


def study_on_cluster(nodes: int, storage: str) -> float:
    from ray.cluster_utils import Cluster

    ray_tmp = tempfile.mkdtemp(prefix="rb", dir="/tmp")
    os.environ["RAY_TMPDIR"] = ray_tmp
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    for _ in range(nodes - 1):
        cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    try:
        ray.init(address=cluster.address)
        started = time.perf_counter()
        run_study(parse_spec(STUDY), storage_path=storage)
        return time.perf_counter() - started
    finally:
        ray.shutdown()
        cluster.shutdown()
        shutil.rmtree(ray_tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    storage = tempfile.mkdtemp(prefix="bench-")
    lines = [
        "scheduling overhead and nodes (Ray " + ray.__version__ + ")",
        f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}",
        f"1. trivial trainable: {TRIALS} trials x {RESULTS} results, local Ray with 2 CPUs, actor reuse",
    ]
    init_ray(num_cpus=2)
    try:
        for concurrent in (1, 2):
            seconds = trivial_sweep(concurrent, storage)
            lines.append(
                f"   {concurrent} concurrent: {seconds:6.1f} s, {TRIALS / seconds * 60:6.1f} trials/min, "
                f"{seconds / TRIALS:5.2f} s/trial, {seconds / (TRIALS * RESULTS) * 1000:6.1f} ms/result"
            )
    finally:
        ray.shutdown()
    lines.append("2. one study (8 trials x 3 epochs, 1 CPU each) on a local test cluster of 1-CPU nodes")
    walls = {}
    for nodes in (1, 2):
        walls[nodes] = study_on_cluster(nodes, storage)
        lines.append(f"   {nodes} node(s): {walls[nodes]:6.1f} s" + (f"  (ratio to 1 node: {walls[nodes] / walls[1]:.2f})" if nodes > 1 else ""))
    shutil.rmtree(storage, ignore_errors=True)
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
