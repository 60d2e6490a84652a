"""Does a loss weight move training? Measured, not assumed.

An optimizer that normalises its gradients (Adam) cancels a constant factor on a loss that is
alone in its optimizer, and makes a sum of weighted terms depend only on the weights' ratios. A
sweep over such a weight measures seed noise and calls it sensitivity. So before a study runs,
this check trains a few steps from one saved state, on the same batches and the same random
draws, once with the default weights and once with one weight multiplied by `factor`, and
compares the parameter updates of each parameter group (a group of an optimizer: a method's
networks, or a small group such as rf_vae's relevance vector, which a sum over millions of
discriminator parameters would hide):

    change = |update(scaled) - update(default)|_1 / |update(default)|_1   (over the group)

The floor is the same comparison for a perturbation that changes nothing in exact arithmetic:
every optimizer's gradients multiplied by `factor` (for SGD with the learning rate divided by
it, and the optimizers' moments rescaled to match). What it leaves is Adam's epsilon and
rounding, amplified by a few steps of training; on a GPU a rerun of the default (kernels that
need not repeat exactly) counts too (on the CPU reruns are identical). A weight acts when, in some group, its change is `margin` times that
group's floor and at least `min_change`; scaling every weight together tells a method whose loss
depends only on the ratios of its weights (its all-weights change stays at the floor). Both are
measured from the initial state and from the parameters reached after `warmup` steps at the
default weights (with fresh optimizer state, so that a changed weight is compared with a run
that had it from the start), and a weight acts if it acts in either.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from .methods import Method

# Optimizers a gradient scale c leaves alone, once their state is in the same scale: the power of c
# that each state tensor carries (Adam-type: first moments c, second moments c^2; SGD's momentum
# buffer c, with the learning rate divided by c)
STATE_SCALING: dict[type, dict[str, int]] = {
    torch.optim.Adam: {"exp_avg": 1, "exp_avg_sq": 2, "max_exp_avg_sq": 2},
    torch.optim.AdamW: {"exp_avg": 1, "exp_avg_sq": 2, "max_exp_avg_sq": 2},
    torch.optim.NAdam: {"exp_avg": 1, "exp_avg_sq": 2},
    torch.optim.RAdam: {"exp_avg": 1, "exp_avg_sq": 2},
    torch.optim.Adamax: {"exp_avg": 1, "exp_inf": 1},
    torch.optim.SGD: {"momentum_buffer": 1},
}
ALL_WEIGHTS = "(all weights)"


@dataclass(frozen=True)
class EffectSettings:
    """How the check probes: steps per comparison, warm-up, the scale factor and the verdict's thresholds."""

    steps: int = 8
    warmup: int = 40
    factor: float = 4.0
    margin: float = 3.0
    min_change: float = 0.01
    batch_size: int = 64
    seed: int = 0

    def __post_init__(self) -> None:
        if self.steps < 1 or self.warmup < 0 or self.batch_size < 4:
            raise ValueError("weight-effect check needs steps >= 1, warmup >= 0 and batch_size >= 4")
        if self.factor <= 0 or self.factor == 1 or self.margin < 1 or self.min_change < 0:
            raise ValueError("weight-effect check needs factor > 0 and != 1, margin >= 1, min_change >= 0")


@dataclass(frozen=True)
class GroupChange:
    """A weight's relative update change in one parameter group from one state, and the floor there."""

    group: str
    state: str  # "initial" or "warm"
    change: float
    floor: float

    def acts(self, settings: EffectSettings) -> bool:
        return self.change >= max(settings.margin * self.floor, settings.min_change)

    def strength(self, settings: EffectSettings) -> float:
        """The change in units of what it must reach to count (>= 1 acts)."""
        needed = max(settings.margin * self.floor, settings.min_change)
        return self.change / needed if needed > 0 else (float("inf") if self.change > 0 else 0.0)


@dataclass(frozen=True)
class WeightEffect:
    """One weight's (or all weights') update changes in every group and state."""

    method: str
    weight: str
    changes: tuple[GroupChange, ...]
    settings: EffectSettings

    @property
    def strongest(self) -> GroupChange:
        return max(self.changes, key=lambda c: c.strength(self.settings))

    @property
    def acts(self) -> bool:
        return self.strongest.acts(self.settings)

    @property
    def times_floor(self) -> float:
        """The strongest change over its floor (inf over a zero floor)."""
        c = self.strongest
        return c.change / c.floor if c.floor > 0 else float("inf")

    def describe(self) -> str:
        c = self.strongest
        verdict = "acts" if self.acts else "INERT"
        state = "the initial state" if c.state == "initial" else f"the state after {self.settings.warmup} steps"
        return (f"{self.weight} x{self.settings.factor:g}: {verdict} — largest change {c.change:.2%} in {c.group} from {state} "
                f"(floor {c.floor:.2%}; needs {max(self.settings.margin * c.floor, self.settings.min_change):.2%})")


@dataclass(frozen=True)
class EffectReport:
    """The check of one method under one set of options."""

    method: str
    options: dict[str, Any]
    weights: dict[str, WeightEffect]
    all_weights: WeightEffect | None  # None for a method with one weight (it is that weight's row)

    @property
    def inert(self) -> list[str]:
        return [name for name, effect in self.weights.items() if not effect.acts]

    @property
    def ratio_only(self) -> bool:
        """Scaling every weight together changes nothing: only the weights' ratios matter."""
        return self.all_weights is not None and not self.all_weights.acts

    def lines(self) -> list[str]:
        rows = [effect.describe() for effect in self.weights.values()]
        if self.all_weights is not None:
            rows.append(self.all_weights.describe() + (" (only the ratios of the weights matter)" if self.ratio_only else ""))
        return rows


def scale_gradients(optimizers: Mapping[str, torch.optim.Optimizer], factor: float) -> list[Any]:
    """Every gradient times `factor` from now on, the optimizers' state rescaled to match, SGD's learning
    rate divided by it: a change of units that leaves training unchanged in exact arithmetic.

    Returns the hook handles; the caller restores the optimizers (here: by reloading a saved state).
    """
    def scale(optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        for group in optimizer.param_groups:
            for parameter in group["params"]:
                if parameter.grad is not None:
                    parameter.grad.mul_(factor)

    handles = []
    for name, optimizer in optimizers.items():
        powers = STATE_SCALING.get(type(optimizer))
        if powers is None:
            raise TypeError(f"weight-effect check: no known gradient scale leaves optimizer {name!r} ({type(optimizer).__name__}) unchanged")
        if isinstance(optimizer, torch.optim.SGD):
            if any(group.get("weight_decay", 0) for group in optimizer.param_groups):
                raise TypeError(f"weight-effect check: optimizer {name!r} is SGD with weight decay, which a gradient scale does not leave alone")
            for group in optimizer.param_groups:
                group["lr"] = group["lr"] / factor
        for state in optimizer.state.values():
            for key, power in powers.items():
                if isinstance(state.get(key), torch.Tensor):
                    state[key].mul_(factor**power)
        handles.append(optimizer.register_step_pre_hook(scale))
    return handles


def parameter_groups(method: Method) -> dict[str, torch.Tensor]:
    """Each optimizer parameter group as a mask over the flat parameter vector, named by its modules."""
    names = {id(p): n.split(".")[0] for n, p in method.named_parameters()}
    flat_index, offset = {}, 0
    for p in method.parameters():
        flat_index[id(p)] = (offset, offset + p.numel())
        offset += p.numel()
    device = next(method.parameters()).device
    groups: dict[str, torch.Tensor] = {}
    seen: set[int] = set()
    for optimizer in method.optimizers.values():
        for group in optimizer.param_groups:
            fresh = [p for p in group["params"] if id(p) not in seen]
            if not fresh:
                continue
            seen.update(id(p) for p in fresh)
            mask = torch.zeros(offset, dtype=torch.bool, device=device)
            for p in fresh:
                start, end = flat_index[id(p)]
                mask[start:end] = True
            label = "+".join(sorted({names[id(p)] for p in fresh}))
            groups[label if label not in groups else f"{label}#{len(groups)}"] = mask
    return groups


class _Probe:
    """One method at one saved state, retrained for a few steps under different weights."""

    def __init__(self, method: Method, batches: list[torch.Tensor]) -> None:
        self.method = method
        self.batches = batches
        self.state = copy.deepcopy(method.training_state())
        self.start = torch.cat([p.detach().flatten() for p in method.parameters()]).clone()

    def update(self, weights: Mapping[str, float], scaled_gradients: float | None = None) -> torch.Tensor:
        """The parameter update of `len(batches)` steps from the saved state."""
        self.method.load_training_state(copy.deepcopy(self.state))
        device = self.start.device
        tensors = {name: torch.tensor(float(value), device=device) for name, value in weights.items()}
        handles = scale_gradients(self.method.optimizers, scaled_gradients) if scaled_gradients else []
        self.method.train()
        try:
            for batch in self.batches:
                self.method.train_step(batch, tensors)
        finally:
            for handle in handles:
                handle.remove()
        return torch.cat([p.detach().flatten() for p in self.method.parameters()]) - self.start


def _relative_change(update: torch.Tensor, reference: torch.Tensor) -> float:
    size = reference.abs().sum().item()
    difference = (update - reference).abs().sum().item()
    return difference / size if size > 0 else (float("inf") if difference > 0 else 0.0)


def check_weight_effects(
    method_cls: type[Method],
    images: torch.Tensor,
    options: Mapping[str, Any] | None = None,
    defaults: Mapping[str, float] | None = None,
    settings: EffectSettings | None = None,
    only: Collection[str] | None = None,
) -> EffectReport:
    """Measure whether each declared weight of `method_cls` (and all of them together) moves training.

    `images`: training images (N x C x H x W, on the device to probe on; N >= the batch size);
    `options`: the method's options, as a spec gives them; `defaults`: the weights to start
    from (default: the method's declared defaults); `only`: the weights to probe (default all;
    the all-weights scaling is probed when every weight is). Returns per-weight effects and, for a
    method with several weights, the effect of scaling them all.
    """
    s = settings or EffectSettings()
    if images.shape[0] < s.batch_size:
        raise ValueError(f"weight-effect check needs at least {s.batch_size} images, got {images.shape[0]}")
    resolved = method_cls.resolve_options(dict(options or {}))
    declared = [w.name for w in method_cls.weights]
    probed = declared if only is None else [name for name in declared if name in set(only)]
    if only is not None and set(only) - set(declared):
        raise ValueError(f"{method_cls.name} has no weight(s) {sorted(set(only) - set(declared))}; its weights are {', '.join(declared)}")
    base = {w.name: w.default for w in method_cls.weights} | dict(defaults or {})
    device = images.device
    torch.manual_seed(s.seed)
    generator = torch.Generator(device=device).manual_seed(s.seed)
    method = method_cls(tuple(images.shape[1:]), generator, **resolved).to(device)
    groups = parameter_groups(method)
    order = torch.randperm(images.shape[0], generator=torch.Generator().manual_seed(s.seed)).to(device)

    def batch(i: int) -> torch.Tensor:
        start = (i * s.batch_size) % (images.shape[0] - s.batch_size + 1)
        return images[order[start : start + s.batch_size]]

    def per_group(update: torch.Tensor, reference: torch.Tensor) -> dict[str, float]:
        return {name: _relative_change(update[mask], reference[mask]) for name, mask in groups.items()}

    scalings = {name: base | {name: base[name] * s.factor} for name in probed}
    if len(declared) > 1 and len(probed) == len(declared):
        scalings[ALL_WEIGHTS] = {name: value * s.factor for name, value in base.items()}
    changes: dict[str, list[GroupChange]] = {name: [] for name in scalings}
    initial = copy.deepcopy(method.training_state())
    for state in ("initial", "warm"):
        if state == "warm":
            method.load_training_state(copy.deepcopy(initial))
            method.train()
            warm_weights = {name: torch.tensor(float(v), device=device) for name, v in base.items()}
            for i in range(s.warmup):
                method.train_step(batch(i), warm_weights)
            for optimizer in method.optimizers.values():
                optimizer.state.clear()  # fresh moments: compare runs that had their weights from the start
        offset = s.warmup if state == "warm" else 0
        probe = _Probe(method, [batch(offset + i) for i in range(s.steps)])
        reference = probe.update(base)
        floor = per_group(probe.update(base, scaled_gradients=s.factor), reference)
        if device.type != "cpu":  # kernels that may not repeat exactly: a rerun is part of the floor
            rerun = per_group(probe.update(base), reference)
            floor = {name: max(floor[name], rerun[name]) for name in groups}
        for name, weights in scalings.items():
            for group, change in per_group(probe.update(weights), reference).items():
                changes[name].append(GroupChange(group, state, change, floor[group]))
    effects = {name: WeightEffect(method_cls.name, name, tuple(c), s) for name, c in changes.items()}
    all_weights = effects.pop(ALL_WEIGHTS, None)
    return EffectReport(method_cls.name, dict(resolved), effects, all_weights)
