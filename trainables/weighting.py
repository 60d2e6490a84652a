"""Loss weights that stay fixed or follow a discriminator (the controller of seed 002).

Akinola & Fobi, "Progressive disentanglement using relevant factor VAE": every `interval`
steps the mean accuracy of the method's discriminator since the last update is compared with
a target band `target +- window`:

- accuracy above the band: the code is still easy to tell from its shuffled copy, so the
  disentanglement weight goes up, `w / scale` (scale < 1);
- accuracy below the band: the weight goes down, `w * scale`;
- inside the band: unchanged. The weight is clipped to [min_weight, max_weight].

The paper's equation (3) prints the two cases the other way round; its text (and the intent)
is the rule above, which a unit test pins. The annealed variant moves the target linearly
from `target_start` (0.85) to `target_end` (0.60) over the run, which puts the emphasis on
reconstruction first and on disentanglement later.

The weight and the accumulated accuracy live on the trial's device as tensors, and the update
is `torch.where` arithmetic, so a training step never waits for a device-to-host copy.
Fixed and adaptive weights are the same class: `mode` is the one setting that differs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import torch

Mode = Literal["fixed", "adaptive", "annealed"]
MODES: tuple[str, ...] = ("fixed", "adaptive", "annealed")


@dataclass(frozen=True)
class ControllerSettings:
    """The seed-002 controller's settings; defaults are the paper's."""

    target: float = 0.75
    window: float = 0.05
    scale: float = 0.99
    min_weight: float = 1e-3
    max_weight: float = 1e4
    interval: int = 50
    target_start: float = 0.85
    target_end: float = 0.60

    def __post_init__(self) -> None:
        if not 0.0 < self.scale < 1.0:
            raise ValueError(f"controller scale must be in (0, 1), got {self.scale}")
        if not 0.0 <= self.window < 0.5:
            raise ValueError(f"controller window must be in [0, 0.5), got {self.window}")
        for name in ("target", "target_start", "target_end"):
            if not 0.5 <= getattr(self, name) <= 1.0:
                raise ValueError(f"controller {name} must be a discriminator accuracy in [0.5, 1], got {getattr(self, name)}")
        if not 0.0 < self.min_weight <= self.max_weight:
            raise ValueError(f"controller bounds must satisfy 0 < min_weight <= max_weight, got {self.min_weight}, {self.max_weight}")
        if self.interval < 1:
            raise ValueError(f"controller interval must be at least 1 step, got {self.interval}")


class WeightController:
    """One loss weight: constant (`fixed`) or driven by a discriminator's accuracy."""

    def __init__(
        self,
        initial: float,
        mode: Mode = "fixed",
        settings: ControllerSettings | None = None,
        total_steps: int | None = None,
        device: torch.device | str = "cpu",
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"weighting mode must be one of {MODES}, got {mode!r}")
        if mode == "annealed" and not total_steps:
            raise ValueError("the annealed controller needs the run's total number of steps")
        self.mode = mode
        self.settings = settings or ControllerSettings()
        self.total_steps = total_steps
        self.initial = float(initial)
        self.value = torch.tensor(self.initial, device=device)
        self._accuracy_sum = torch.zeros((), device=device)
        self._observed = 0
        self.steps = 0

    def target(self) -> float:
        """The target accuracy now (moves with training in the annealed mode)."""
        s = self.settings
        if self.mode != "annealed":
            return s.target
        progress = min(1.0, self.steps / self.total_steps)  # type: ignore[operator]
        return s.target_start + (s.target_end - s.target_start) * progress

    def observe(self, accuracy: torch.Tensor) -> None:
        """Record one step's discriminator accuracy (a 0-dim tensor on the device)."""
        if self.mode == "fixed":
            return
        self._accuracy_sum += accuracy.detach()
        self._observed += 1

    def step(self) -> None:
        """Advance one training step; every `interval` steps, move the weight."""
        self.steps += 1
        if self.mode == "fixed" or self.steps % self.settings.interval or not self._observed:
            return
        s = self.settings
        accuracy = self._accuracy_sum / self._observed
        target = self.target()
        raised = torch.where(accuracy > target + s.window, self.value / s.scale, self.value)
        moved = torch.where(accuracy < target - s.window, self.value * s.scale, raised)
        self.value = moved.clamp(s.min_weight, s.max_weight)
        self._accuracy_sum.zero_()
        self._observed = 0

    def state_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "settings": asdict(self.settings),
            "total_steps": self.total_steps,
            "initial": self.initial,
            "value": self.value.clone(),
            "accuracy_sum": self._accuracy_sum.clone(),
            "observed": self._observed,
            "steps": self.steps,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        device = self.value.device
        self.mode = state["mode"]
        self.settings = ControllerSettings(**state["settings"])
        self.total_steps = state["total_steps"]
        self.initial = state["initial"]
        self.value = state["value"].to(device)
        self._accuracy_sum = state["accuracy_sum"].to(device)
        self._observed = state["observed"]
        self.steps = state["steps"]
