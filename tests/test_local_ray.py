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
