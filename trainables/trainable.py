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

import torch
from ray import tune

from .datasets import Splits
from .pictures import write_pictures
from .trial import Trial

CHECKPOINT_FILE = "trial_state.pt"


class StudyTrainable(tune.Trainable):
    def setup(self, config: dict[str, Any], splits: Splits) -> None:
        # one INFO line per saved checkpoint, from every worker, drowns the progress table
        logging.getLogger("ray.train._internal.storage").setLevel(logging.WARNING)
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
