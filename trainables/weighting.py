"""Loss weights that stay fixed or follow a discriminator (the controller of seed 002).

Akinola & Fobi, "Progressive disentanglement using relevant factor VAE": at each update step
(`interval` 1, the paper's; a larger interval compares the mean accuracy since the last update)
the accuracy of the method's discriminator is compared with a band, `target +- window` (the
paper's implementation: 0.75 +- 0.05), or explicit `lower_below` / `raise_above` thresholds (the
paper's text gives 0.55 and 0.90 as examples):

- accuracy above the band: the code is still easy to tell from its shuffled copy, so the
  disentanglement weight goes up, `w / scale` (scale < 1);
- accuracy below the band: the weight goes down, `w * scale`;
- inside the band: unchanged. The weight is clipped to [min_weight, max_weight].

The paper's equation (3) prints the two cases the other way round; its text (and the intent)
is the rule above, which a unit test pins. The annealed variant moves the target linearly
from `target_start` (0.85) to `target_end` (0.60) over the run, which puts the emphasis on
reconstruction first and on disentanglement later. `warmup` steps (0 in the paper) train at the
starting weight before the controller may act, while a fresh discriminator is still at chance.

Whether the controller could act at all is measured, not assumed: every adaptive controller
counts the steps whose discriminator accuracy lay inside its band (`in_band_share`), which the
trial reports per epoch as `controller/in_band/<weight>`. A band the discriminator never
reaches makes the controller a steady drift of the weight, not a feedback loop.

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
    interval: int = 1
    target_start: float = 0.85
    target_end: float = 0.60
    warmup: int = 0
    lower_below: float | None = None
    raise_above: float | None = None

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
        if self.warmup < 0:
            raise ValueError(f"controller warmup must be a number of steps >= 0, got {self.warmup}")
        if (self.lower_below is None) != (self.raise_above is None):
            raise ValueError("controller thresholds come as a pair: give both lower_below and raise_above, or neither")
        if self.lower_below is not None and not 0.0 <= self.lower_below <= self.raise_above <= 1.0:  # type: ignore[operator]
            raise ValueError(f"controller thresholds must satisfy 0 <= lower_below <= raise_above <= 1, got {self.lower_below}, {self.raise_above}")

    def band(self, target: float) -> tuple[float, float]:
        """The accuracies between which the weight stays put."""
        if self.lower_below is not None:
            return self.lower_below, self.raise_above  # type: ignore[return-value]
        return target - self.window, target + self.window


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
        if mode == "annealed" and settings is not None and settings.lower_below is not None:
            raise ValueError("the annealed controller moves its target; explicit thresholds (lower_below, raise_above) would fix the band")
        self.mode = mode
        self.settings = settings or ControllerSettings()
        self.total_steps = total_steps
        self.initial = float(initial)
        self.value = torch.tensor(self.initial, device=device)
        self._accuracy_sum = torch.zeros((), device=device)
        self._observed = 0
        self.steps = 0
        self._in_band = torch.zeros((), device=device)
        self._band_steps = 0

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
        accuracy = accuracy.detach()
        self._accuracy_sum += accuracy
        self._observed += 1
        low, high = self.settings.band(self.target())
        self._in_band += ((accuracy >= low) & (accuracy <= high)).to(self._in_band.dtype)
        self._band_steps += 1

    def in_band_share(self, reset: bool = True) -> torch.Tensor | None:
        """Share of the observed steps (since the last reset) whose accuracy lay inside the band;
        None for a fixed weight or before any step. A tensor on the device: reading it syncs."""
        if self.mode == "fixed" or not self._band_steps:
            return None
        share = self._in_band / self._band_steps
        if reset:
            self._in_band = torch.zeros_like(self._in_band)
            self._band_steps = 0
        return share

    def step(self) -> None:
        """Advance one training step; every `interval` steps, move the weight."""
        self.steps += 1
        if self.mode == "fixed" or self.steps % self.settings.interval or not self._observed:
            return
        s = self.settings
        accuracy = self._accuracy_sum / self._observed
        low, high = s.band(self.target())
        self._accuracy_sum.zero_()
        self._observed = 0
        if self.steps <= s.warmup:
            return
        raised = torch.where(accuracy > high, self.value / s.scale, self.value)
        moved = torch.where(accuracy < low, self.value * s.scale, raised)
        self.value = moved.clamp(s.min_weight, s.max_weight)

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
            "in_band": self._in_band.clone(),
            "band_steps": self._band_steps,
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
        self._in_band = state.get("in_band", torch.zeros(())).to(device)
        self._band_steps = state.get("band_steps", 0)
