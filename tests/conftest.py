"""Shared fixtures. MNIST tests read ../shared/data through STUDY_DATA_ROOT (set by .ci/run),
or the `shared/data` folder beside the repository when that exists."""

from __future__ import annotations

import os

from study.loopback import keep_local_ray_on_loopback

keep_local_ray_on_loopback()  # the tests' local Ray instances listen on 127.0.0.1 only
from pathlib import Path

import pytest

from trainables.datasets import load_dataset

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def data_root() -> Path:
    root = os.environ.get("STUDY_DATA_ROOT") or str(REPO.parent / "shared" / "data")
    if not (Path(root) / "MNIST" / "raw").is_dir():
        pytest.skip(f"no MNIST files under {root}; set STUDY_DATA_ROOT")
    return Path(root)


@pytest.fixture(scope="session")
def tiny_sprites():
    """A small procedural dSprites at 16x16: fast enough for training tests."""
    return load_dataset("dsprites", resolution=16, sizes={"scale": 2, "orientation": 2, "position_x": 4, "position_y": 4})


def small_networks(method_cls) -> dict:
    """Options that shrink a method's networks for fast tests (only those the method takes)."""
    sizes = {"disc_hidden": 32, "disc_layers": 2, "hidden": 64}
    return {k: v for k, v in sizes.items() if k in method_cls.option_defaults}
