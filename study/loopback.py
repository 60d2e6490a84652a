"""Keep a local Ray on 127.0.0.1.

Measured with Ray 2.60 (../shared/ENVIRONMENT.md, and `tests/test_sweep.py` checks it): a single
local node binds its services to 127.0.0.1 only when `RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`, and
Ray reads that variable once, when it is first imported. Without it the GCS and the raylet
listen on every interface. So `study` sets it before anything imports ray, for local runs only:
a driver joining a cluster (`--address`) must be reachable from the other nodes.
"""

from __future__ import annotations

import os
import sys

LOOPBACK_ONLY = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


def keep_local_ray_on_loopback() -> bool:
    """Set the variable if ray is not imported yet; True when a local Ray will bind to 127.0.0.1."""
    if "ray" not in sys.modules:
        os.environ.setdefault(LOOPBACK_ONLY, "0")
    return os.environ.get(LOOPBACK_ONLY) == "0"
