"""The generic Ray Tune trainable: one class for every method, a thin adapter around `Trial`.

Data arrives once per worker through the object store (`tune.with_parameters(StudyTrainable,
splits=...)`) and moves to the trial's device once; `reset_config` lets Tune reuse the actor
(and the data already on the device) for the next trial. At the last epoch the trial draws
its reconstructions and latent traversals (`trainables.pictures`) into its directory.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import ray
import torch
from ray import tune

from .datasets import Splits
from .pictures import write_pictures
from .trial import CHECKPOINT_FILE, Trial


def use_cpu_share() -> int:
    """Intra-op threads = the CPUs Ray gave this worker (at least 1), so trials sharing a node do not
    oversubscribe its cores. Ray sets OMP_NUM_THREADS from the share only where it is unset; a value
    exported for the whole machine (say 16) would otherwise give every trial 16 threads."""
    cpus = ray.get_runtime_context().get_assigned_resources().get("CPU") if ray.is_initialized() else None
    if cpus:
        torch.set_num_threads(max(1, int(cpus)))
    return torch.get_num_threads()


class StudyTrainable(tune.Trainable):
    def setup(self, config: dict[str, Any], splits: Splits) -> None:
        # one INFO line per saved checkpoint, from every worker, drowns the progress table
        logging.getLogger("ray.train._internal.storage").setLevel(logging.WARNING)
        use_cpu_share()
        self.splits = splits
        self.trial = Trial(config, splits)

    def step(self) -> dict[str, Any]:
        metrics = self.trial.train_epoch()
        metrics["done"] = self.trial.finished or metrics["diverged"]
        if self.trial.finished and not metrics["diverged"]:
            # into the trial's working directory; Tune syncs it to storage with the final checkpoint
            write_pictures(self.trial.method, self.trial.data.eval.images[:256], self.logdir)
        return metrics

    def save_checkpoint(self, checkpoint_dir: str) -> None:
        torch.save(self.trial.state(), os.path.join(checkpoint_dir, CHECKPOINT_FILE))

    def load_checkpoint(self, checkpoint_dir: str) -> None:
        # on the CPU: the random-generator state must be a CPU tensor; parameters and optimiser
        # state are copied onto the trial's device by their load_state_dict
        state = torch.load(os.path.join(checkpoint_dir, CHECKPOINT_FILE), map_location="cpu", weights_only=True)
        self.trial.load_state(state)

    def reset_config(self, new_config: dict[str, Any]) -> bool:
        self.trial = Trial(new_config, self.splits, device_data=self.trial.data)
        return True
