"""One live driver per experiment: `study resume` must not write into a folder a running study writes.

`study run` and `study resume` name themselves in the experiment's `driver.json` (host, pid and the
process's creation time, so a reused pid is not mistaken for it) once their tuner is built, and
remove it when they end; a driver that was killed leaves it behind, and a later resume on the same
machine sees that its process is gone.
"""

from __future__ import annotations

import datetime as dt
import json
import platform

import psutil

from .spec import SpecError
from .storage import ExperimentFiles

DRIVER_FILE = "driver.json"  # the live driver of an experiment: removed when it ends, left by a killed one


def refuse_live_writer(files: ExperimentFiles) -> None:
    """Refuse an experiment that another live driver is writing (its driver.json names a live process)."""
    if files.has(DRIVER_FILE):
        try:
            other = json.loads(files.read_text(DRIVER_FILE))
        except (OSError, ValueError):
            other = {}
        if other.get("host") == platform.node() and psutil.pid_exists(int(other.get("pid", -1))):
            try:
                alive = abs(psutil.Process(int(other["pid"])).create_time() - float(other.get("created", 0))) < 1.0
            except psutil.Error:
                alive = False
            if alive:
                raise SpecError(f"{files.path} is being written by a live run (pid {other['pid']} on this machine, started "
                                f"{other.get('started', '?')}); wait for it or stop it before resuming")
        elif other.get("host") not in (None, platform.node()):
            raise SpecError(f"{files.path} may be being written by a run on {other['host']} (pid {other.get('pid')}); resume "
                            f"it there, or delete {DRIVER_FILE} if that run is dead")


def mark_driver(files: ExperimentFiles) -> None:
    """Name this process as the experiment's live driver (until the run ends)."""
    me = psutil.Process()
    files.write_text(DRIVER_FILE, json.dumps({"host": platform.node(), "pid": me.pid, "created": me.create_time(),
                                              "started": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}))
