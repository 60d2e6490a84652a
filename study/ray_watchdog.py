"""No Ray process outlives the driver that started it: a watchdog for local Ray instances.

When a driver that started its own local Ray dies without shutting it down (SIGKILL, OOM killer),
Ray's head processes go with it, but its agents (DashboardAgent, RuntimeEnvAgent) poll for their
raylet and linger for about a minute, and idle workers may too. `start` launches this module as a
detached process that watches the driver; once the driver is gone it kills every process that
descended from the driver while it lived (checked by creation time, so a reused pid is never hit).

    python -m study.ray_watchdog DRIVER_PID
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import psutil

POLL_S = 0.5


def start() -> subprocess.Popen:
    """Watch this process (call after ray.init started a local instance)."""
    return subprocess.Popen([sys.executable, "-m", "study.ray_watchdog", str(os.getpid())], start_new_session=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _descendants(process: psutil.Process) -> dict[int, float]:
    """The process's descendants by pid and creation time, this watchdog (the driver's child) left out."""
    try:
        return {p.pid: p.create_time() for p in process.children(recursive=True) if p.pid != os.getpid()}
    except psutil.Error:
        return {}


def watch(driver_pid: int) -> None:
    """Record the driver's descendants while it lives; kill the survivors when it dies."""
    try:
        driver = psutil.Process(driver_pid)
    except psutil.NoSuchProcess:
        return
    known: dict[int, float] = {}
    while driver.is_running() and driver.status() != psutil.STATUS_ZOMBIE:
        known.update(_descendants(driver))
        time.sleep(POLL_S)
    survivors = []
    for pid, created in known.items():
        try:
            process = psutil.Process(pid)
            if process.create_time() == created and process.status() != psutil.STATUS_ZOMBIE:
                process.kill()
                survivors.append(process)
        except psutil.Error:
            continue
    psutil.wait_procs(survivors, timeout=10)


if __name__ == "__main__":
    watch(int(sys.argv[1]))
