"""One trial without Ray: build a method from a trial config, train epochs, evaluate, checkpoint.

The Tune trainable (`trainables.trainable`) is a thin adapter around this class, so the same
code trains under Tune, in tests and in benchmarks.

Trial config keys (a study's design fills them in):
  method, weighting ("fixed" | "adaptive" | "annealed"), weights {name: value}, seed,
  options {method options}, controller {ControllerSettings fields}, epochs, batch_size,
  eval_size, eval_every, dataset (a label; the data itself comes as tensors), and fault
  (None, or the spec's fault_injection: a testing hook that makes those seeds fail at that epoch).
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import torch

from .datasets import ImageSet, Splits
from .evaluation import EVAL_KEYS, evaluate
from .methods import Method, get_method
from .networks import images_on, memory_format_for
from .weighting import ControllerSettings, WeightController

CHECKPOINT_FILE = "trial_state.pt"  # a checkpoint folder's file: Trial.state(), saved with torch.save

DEFAULTS: dict[str, Any] = {
    "weighting": "fixed",
    "weights": {},
    "options": {},
    "controller": {},
    "batch_size": 64,
    "eval_size": 2000,
    "eval_every": 1,
    "epochs": 10,
    "fault": None,
}


def pick_device() -> torch.device:
    """The GPU Ray assigned to this process if there is one, else the CPU."""
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


class DeviceData:
    """The train images and the evaluation subset, moved to the device once and reused."""

    @staticmethod
    def key_for(splits: Splits, eval_size: int, device: torch.device) -> tuple:
        """What a trial needs on its device; a reused actor keeps the data when this matches."""
        return (id(splits), eval_size, str(device))

    def __init__(self, splits: Splits, eval_size: int, device: torch.device) -> None:
        self.key = self.key_for(splits, eval_size, device)
        self.train_images = images_on(splits.train.images, device)
        evaluation = splits.test.subset(eval_size, seed=0)
        self.eval = ImageSet(
            name=evaluation.name,
            images=images_on(evaluation.images, device),
            labels=evaluation.labels,
            factors=evaluation.factors,
            factor_names=evaluation.factor_names,
            factor_sizes=evaluation.factor_sizes,
            num_classes=evaluation.num_classes,
        )


class Trial:
    """Trains one configured method on one dataset, one epoch at a time."""

    def __init__(self, config: dict[str, Any], splits: Splits, device_data: DeviceData | None = None) -> None:
        self.config = {**DEFAULTS, **config}
        cfg = self.config
        self.device = pick_device()
        self.seed = int(cfg["seed"])
        eval_size = int(cfg["eval_size"])
        reusable = device_data is not None and device_data.key == DeviceData.key_for(splits, eval_size, self.device)
        self.data = device_data if reusable else DeviceData(splits, eval_size, self.device)

        method_cls = get_method(cfg["method"])
        torch.manual_seed(self.seed)  # network initialisation
        self.generator = torch.Generator(device=self.device).manual_seed(self.seed)
        self.method: Method = method_cls(splits.train.image_shape, self.generator, **method_cls.resolve_options(cfg["options"]))
        self.method.to(self.device, memory_format=memory_format_for(self.device))
        self.method.attach_training_images(self.data.train_images)

        self.batch_size = int(cfg["batch_size"])
        self.images_per_step = self.batch_size * self.method.batches_per_step
        self.steps_per_epoch = len(self.data.train_images) // self.images_per_step
        if self.steps_per_epoch < 1:
            raise ValueError(f"a step of {self.images_per_step} images (batch_size {self.batch_size} x {self.method.batches_per_step}) "
                             f"exceeds the {len(self.data.train_images)} training images")
        settings = ControllerSettings(**cfg["controller"])
        total_steps = int(cfg["epochs"]) * self.steps_per_epoch
        self.controllers = {
            spec.name: WeightController(
                float(cfg["weights"].get(spec.name, spec.default)),
                mode=cfg["weighting"] if spec.name in method_cls.adaptive else "fixed",
                settings=settings,
                total_steps=total_steps,
                device=self.device,
            )
            for spec in method_cls.weights
        }
        self.epoch = 0

    def train_epoch(self) -> dict[str, float]:
        """One pass over the shuffled training set, then evaluation; returns the epoch's metrics."""
        fault = self.config.get("fault")
        if fault and self.seed in fault["seeds"] and self.epoch + 1 == fault["raise_at_epoch"]:
            self._inject_fault(fault)
        started = time.perf_counter()
        images = self.data.train_images
        order = torch.randperm(len(images), generator=self.generator, device=self.device)
        sums: dict[str, torch.Tensor] = {}
        self.method.train()
        for step in range(self.steps_per_epoch):
            index = order[step * self.images_per_step : (step + 1) * self.images_per_step]
            weights = {name: c.value for name, c in self.controllers.items()}
            terms = (self.method.train_step(images[index], weights, index=index) if self.method.wants_batch_index
                     else self.method.train_step(images[index], weights))
            for name, controller in self.controllers.items():
                source = self.method.adaptive.get(name)
                if source is not None:
                    controller.observe(terms[f"disc_acc/{source}"])
                controller.step()
            for key, value in terms.items():
                sums[key] = sums[key] + value if key in sums else value.clone()
        self.method.end_epoch()
        self.epoch += 1

        metrics = {key: value.item() / self.steps_per_epoch for key, value in sums.items()}  # the epoch's one sync
        trained = time.perf_counter()
        metrics.update({f"weight/{name}": c.value.item() for name, c in self.controllers.items()})
        for name, controller in self.controllers.items():
            share = controller.in_band_share()
            if share is not None:
                metrics[f"controller/in_band/{name}"] = share.item()
        last = self.epoch >= int(self.config["epochs"])
        diverged = not all(math.isfinite(v) for v in metrics.values())
        if diverged:
            metrics.update({key: math.nan for key in EVAL_KEYS})
        elif last or self.epoch % int(self.config["eval_every"]) == 0:
            metrics.update(evaluate(self.method, self.data.eval))
        else:
            metrics.update({key: math.nan for key in EVAL_KEYS})
        metrics["time/train_s"] = trained - started
        metrics["time/eval_s"] = time.perf_counter() - trained
        metrics["diverged"] = diverged
        return metrics

    def _inject_fault(self, fault: dict[str, Any]) -> None:
        """The spec's fault_injection: fail for real, unless it has failed `times` times already."""
        times = fault.get("times")
        if times is not None:
            marker = Path.cwd() / f".injected-fault-seed{self.seed}-epoch{self.epoch + 1}"
            count = len(marker.read_text().splitlines()) if marker.exists() else 0
            if count >= times:
                return
            with marker.open("a") as record:
                record.write("failed\n")
        if fault.get("kind", "raise") == "oom":
            torch.empty(1 << 60, dtype=torch.uint8, device=self.device)  # 1 EiB: the allocator refuses
        raise RuntimeError(f"injected fault: seed {self.seed} raises at epoch {self.epoch + 1} (spec fault_injection)")

    @property
    def finished(self) -> bool:
        return self.epoch >= int(self.config["epochs"])

    def state(self) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "method": self.method.training_state(),
            "controllers": {name: c.state_dict() for name, c in self.controllers.items()},
        }

    def load_state(self, state: dict[str, Any]) -> None:
        self.epoch = state["epoch"]
        self.method.load_training_state(state["method"])
        for name, controller in self.controllers.items():
            controller.load_state_dict(state["controllers"][name])
