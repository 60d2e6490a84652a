"""A local study's Ray is its own (slow: starts Ray)."""

import pytest
import ray

from study.launch import init_ray

pytestmark = pytest.mark.slow


def test_a_local_run_starts_its_own_ray_even_when_another_cluster_is_advertised(monkeypatch):
    # RAY_ADDRESS (like the file `ray start` leaves in /tmp/ray) would make a bare ray.init()
    # attach to that cluster, here a dead one: a local study must start its own instead
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.9:1")
    init_ray(num_cpus=1)
    try:
        assert ray.get_runtime_context().gcs_address.startswith("127.0.0.1:")
        assert ray.cluster_resources()["CPU"] == 1
    finally:
        ray.shutdown()


def test_a_trial_uses_as_many_threads_as_its_cpu_share(monkeypatch):
    """Even with OMP_NUM_THREADS exported for the whole machine, a 1-CPU trial computes on 1 thread."""
    monkeypatch.setenv("OMP_NUM_THREADS", "7")
    init_ray(num_cpus=2)
    try:
        @ray.remote
        def threads() -> tuple[int, int]:
            import torch

            from trainables.trainable import use_cpu_share

            before = torch.get_num_threads()
            return before, use_cpu_share()

        before, after = ray.get(threads.options(num_cpus=1).remote())
        assert after == 1, f"{before} threads before"  # measured here: 2 before (the machine's cores), not 1
        assert ray.get(threads.options(num_cpus=2).remote())[1] == 2
    finally:
        ray.shutdown()


def test_more_concurrency_than_the_cluster_holds_is_said_not_refused(capsys):
    from study.launch import check_resources
    from study.spec import parse_spec

    spec = parse_spec({"name": "c", "dataset": {"name": "digits"}, "methods": [{"name": "beta_vae"}], "seeds": [0], "epochs": 1,
                       "max_concurrent": 8, "resources": {"cpu": 1}})
    init_ray(num_cpus=2)
    try:
        check_resources(spec)
    finally:
        ray.shutdown()
    assert "max_concurrent is 8, but this Ray cluster holds 2 trial(s) of 1 CPU / 0 GPU at a time" in capsys.readouterr().out
