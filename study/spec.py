"""Study specs: what to run, validated in full before anything starts.

A spec (YAML, read by `study.spec_files`) is checked by pydantic models that forbid unknown
keys, then against the registries of methods and datasets: an unknown method, a weight the
method does not have, an empty or inverted range, a negative weight, an adaptive switch on a
method without a discriminator... each is a `SpecError` naming the field.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import fields
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from trainables.datasets import DATASETS
from trainables.datasets.digits import load_sklearn_digits
from trainables.datasets.dsprites import generate_dsprites, load_dsprites_npz
from trainables.datasets.stl10 import load_stl10
from trainables.datasets.torchvision_sets import load_torchvision_set
from trainables.metric_registry import EVAL_KEYS, direction_of
from trainables.methods import METHODS
from trainables.weighting import MODES, ControllerSettings

REPORTED_PREFIXES = ("loss/", "weight/", "disc_acc/", "controller/")
DEFAULT_MAX_TRIALS = 2000  # a design larger than this needs an explicit max_trials (a typo in points can ask for millions)


class SpecError(ValueError):
    """A study spec that cannot run; the message names the field and the problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WeightRange(_Strict):
    """A weight's sweep: explicit `values`, or `low`..`high` on a `scale` with `points` grid points."""

    values: list[float] | None = None
    low: float | None = None
    high: float | None = None
    scale: Literal["log", "linear"] = "log"
    points: int = Field(default=5, ge=1)

    @model_validator(mode="after")
    def _check(self) -> "WeightRange":
        if self.values is not None:
            if self.low is not None or self.high is not None:
                raise ValueError("give either values or low/high, not both")
            if not self.values:
                raise ValueError("values is empty")
            if any(v <= 0 or not math.isfinite(v) for v in self.values):
                raise ValueError(f"loss weights must be positive and finite, got {self.values}")
            return self
        if self.low is None or self.high is None:
            raise ValueError("a range needs both low and high (or a list of values)")
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise ValueError("low and high must be finite")
        if self.low <= 0:
            raise ValueError(f"loss weights must be positive, got low={self.low}")
        if self.low > self.high or (self.low == self.high and self.points > 1):
            raise ValueError(f"empty or inverted range: low={self.low} high={self.high}")
        return self

    @property
    def bounds(self) -> tuple[float, float]:
        if self.values is not None:
            return min(self.values), max(self.values)
        return self.low, self.high  # type: ignore[return-value]

    @property
    def log(self) -> bool:
        return self.scale == "log"

    def grid(self) -> list[float]:
        """The grid points: the values given, or `points` evenly spaced on the scale."""
        if self.values is not None:
            return list(self.values)
        low, high = self.bounds
        if self.points == 1:
            return [low]
        if self.log:
            step = (math.log(high) - math.log(low)) / (self.points - 1)
            return [float(math.exp(math.log(low) + i * step)) for i in range(self.points)]
        return [low + i * (high - low) / (self.points - 1) for i in range(self.points)]

    def from_unit(self, u: float) -> float:
        """Map a point of [0, 1) (a quasi-random coordinate) into the range on its scale."""
        low, high = self.bounds
        if self.log:
            return float(math.exp(math.log(low) + u * (math.log(high) - math.log(low))))
        return low + u * (high - low)


class MethodEntry(_Strict):
    name: str
    weighting: list[Literal["fixed", "adaptive", "annealed"]] = ["fixed"]
    weights: dict[str, WeightRange] = {}
    options: dict[str, Any] = {}
    controller: dict[str, float | int] = {}

    @field_validator("weighting", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check(self) -> "MethodEntry":
        if self.name not in METHODS:
            raise ValueError(f"unknown method {self.name!r}; methods are {', '.join(METHODS)}")
        method = METHODS[self.name]
        if not self.weighting or len(set(self.weighting)) != len(self.weighting):
            raise ValueError(f"weighting must list distinct modes out of {', '.join(MODES)}")
        known = [w.name for w in method.weights]
        for weight in self.weights:
            if weight not in known:
                raise ValueError(f"{self.name} has no weight {weight!r}; its weights are {', '.join(known)}")
        if any(mode != "fixed" for mode in self.weighting) and not method.adaptive:
            raise ValueError(f"{self.name} has no discriminator, so its weights can only be fixed (weighting: fixed)")
        method.resolve_options(self.options)
        allowed = {f.name for f in fields(ControllerSettings)}
        unknown = set(self.controller) - allowed
        if unknown:
            raise ValueError(f"controller has no setting(s) {sorted(unknown)}; settings are {sorted(allowed)}")
        ControllerSettings(**self.controller)
        steered = sorted({*(["controller"] if self.controller else []), *(set(self.options) & set(method.controller_options))})
        if steered and set(self.weighting) == {"fixed"}:
            raise ValueError(f"{', '.join(steered)}: settings of the adaptive controller, which this entry never runs (its weighting "
                             "is fixed alone), so they would change nothing; add adaptive (or annealed) to weighting, or remove them")
        return self

    @property
    def swept(self) -> dict[str, WeightRange]:
        """The weights this entry sweeps, in the method's declared order (the design's axis order)."""
        return {w.name: self.weights[w.name] for w in METHODS[self.name].weights if w.name in self.weights}


_LOADER_OPTIONS = {
    "dsprites": set(inspect.signature(generate_dsprites).parameters) | set(inspect.signature(load_dsprites_npz).parameters),
    "digits": set(inspect.signature(load_sklearn_digits).parameters),
    "mnist": set(inspect.signature(load_torchvision_set).parameters) - {"name"},
    "fashion_mnist": set(inspect.signature(load_torchvision_set).parameters) - {"name"},
    "stl10": set(inspect.signature(load_stl10).parameters),
}


class DatasetEntry(_Strict):
    name: str
    options: dict[str, Any] = {}
    eval_size: int = Field(default=2000, ge=10)

    @model_validator(mode="after")
    def _check(self) -> "DatasetEntry":
        if self.name not in DATASETS:
            raise ValueError(f"unknown dataset {self.name!r}; datasets are {', '.join(DATASETS)}")
        unknown = set(self.options) - _LOADER_OPTIONS[self.name]
        if unknown:
            raise ValueError(f"{self.name} has no option(s) {sorted(unknown)}; its options are {sorted(_LOADER_OPTIONS[self.name])}")
        return self


def _check_rdb_url(url: str) -> None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        backend = make_url(url).get_backend_name()
    except ArgumentError as error:
        raise ValueError(f"search.storage {url!r} is not a database URL (e.g. sqlite:///study.db, postgresql://user@host/db): {error}") from None
    if backend not in ("sqlite", "postgresql", "mysql"):
        raise ValueError(f"search.storage: Optuna's RDB storage takes sqlite, postgresql or mysql URLs, got {backend!r}")


class SearchEntry(_Strict):
    """grid: every grid point; quasi_random: `samples` Sobol points; optuna: `samples` TPE trials."""

    kind: Literal["grid", "quasi_random", "optuna"] = "grid"
    samples: int | None = Field(default=None, ge=1)
    seed: int = 0
    # Optuna's RDB storage for the searcher (optuna only): e.g. postgresql://user@host/db for a
    # cluster; default SQLite beside the results, so a study can be resumed and inspected
    storage: str | None = None

    @model_validator(mode="after")
    def _check(self) -> "SearchEntry":
        if self.kind != "grid" and self.samples is None:
            raise ValueError(f"search kind {self.kind} needs samples (how many points or trials)")
        if self.kind == "grid" and self.samples is not None:
            raise ValueError("a grid search takes its size from the weights' points; drop samples")
        if self.storage is not None:
            if self.kind != "optuna":
                raise ValueError("search.storage holds an Optuna study: it needs kind optuna")
            _check_rdb_url(self.storage)
        return self


class SchedulerEntry(_Strict):
    kind: Literal["none", "asha"] = "none"
    grace_period: int = Field(default=1, ge=1)
    reduction_factor: float = Field(default=2.0, gt=1.0)


class FaultInjection(_Strict):
    """For testing fault handling: trials with these seeds fail for real at this epoch.

    kind raise: a RuntimeError; oom: an allocation no device can serve (the allocator's own
    out-of-memory error). times: how often in all (counted in marker files in the trial's working
    directory, so retries on the same node see them); None: every time the epoch is reached.
    """

    raise_at_epoch: int = Field(ge=1)
    seeds: list[int] = Field(min_length=1)
    kind: Literal["raise", "oom"] = "raise"
    times: int | None = Field(default=None, ge=1)


class Resources(_Strict):
    cpu: float = Field(default=1.0, gt=0)
    gpu: float = Field(default=0.0, ge=0)


class StudySpec(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    dataset: DatasetEntry
    methods: list[MethodEntry] = Field(min_length=1)
    seeds: list[int] = Field(min_length=1)
    search: SearchEntry = SearchEntry()
    scheduler: SchedulerEntry = SchedulerEntry()
    metric: str = "recon_bce"
    mode: Literal["min", "max"]  # without one in the spec: the metric's direction (trainables.metric_registry)
    epochs: int = Field(ge=1)
    batch_size: int = Field(default=64, ge=4)
    eval_every: int = Field(default=1, ge=1)
    checkpoint_every: int = Field(default=1, ge=1)
    max_failures: int = Field(default=1, ge=0)
    resources: Resources = Resources()
    max_concurrent: int | None = Field(default=None, ge=1)
    reuse_actors: bool = True
    storage_path: str | None = None
    # the budget: the most trials this study may run (a design larger than this is refused)
    max_trials: int | None = Field(default=None, ge=1)
    fault_injection: FaultInjection | None = None

    @field_validator("seeds")
    @classmethod
    def _distinct(cls, seeds: list[int]) -> list[int]:
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds must be distinct, got {seeds}")
        return seeds

    def planned_trial_count(self) -> int:
        """How many trials the spec asks for, counted without building them (a typo can ask for millions);
        here, not in study.design, so that validation needs no import of the design (which imports this)."""
        if self.search.kind == "optuna":
            return int(self.search.samples or 0)
        total = 0
        for entry in self.methods:
            swept = entry.swept
            if not swept:
                points = 1
            elif self.search.kind == "grid":
                points = math.prod(len(r.values) if r.values is not None else r.points for r in swept.values())
            else:
                points = int(self.search.samples or 0)
            total += points * len(entry.weighting) * len(self.seeds)
        return total

    @model_validator(mode="before")
    @classmethod
    def _mode_from_metric(cls, data: Any) -> Any:
        """A spec that names a metric but no mode searches in the metric's better direction (MIG up, reconstruction down)."""
        if isinstance(data, dict) and data.get("mode") is None:
            data = {**data, "mode": direction_of(str(data.get("metric", "recon_bce")))}
        return data

    @model_validator(mode="after")
    def _check(self) -> "StudySpec":
        planned = self.planned_trial_count()
        cap = self.max_trials if self.max_trials is not None else DEFAULT_MAX_TRIALS
        if planned > cap:
            source = f"max_trials {self.max_trials}" if self.max_trials is not None else f"the default cap ({DEFAULT_MAX_TRIALS} trials)"
            raise ValueError(f"the design has {planned:,} trials, more than {source}: fewer weight points, seeds or "
                             f"weighting modes, or set max_trials: {planned} in the spec to run it")
        if self.metric not in EVAL_KEYS and not self.metric.startswith(REPORTED_PREFIXES):
            raise ValueError(f"metric {self.metric!r} is not reported; use one of {', '.join(EVAL_KEYS)} or a loss/... key")
        if self.scheduler.kind == "asha" and self.metric in EVAL_KEYS and self.eval_every != 1:
            raise ValueError(f"ASHA compares {self.metric} at every epoch, so eval_every must be 1 (got {self.eval_every})")
        if self.fault_injection is not None and not set(self.fault_injection.seeds) <= set(self.seeds):
            raise ValueError(f"fault_injection.seeds {self.fault_injection.seeds} are not among the study's seeds {self.seeds}")
        if self.scheduler.kind == "asha" and self.scheduler.grace_period > self.epochs:
            raise ValueError(f"scheduler.grace_period {self.scheduler.grace_period} exceeds epochs {self.epochs}")
        return self


def _field_name(location: tuple[Any, ...]) -> str:
    parts = []
    for item in location:
        parts.append(f"[{item}]" if isinstance(item, int) else ("." if parts else "") + str(item))
    return "".join(parts) or "spec"


def parse_spec(data: Any, source: str = "spec") -> StudySpec:
    """Validate a spec mapping; every problem found is listed in one SpecError."""
    if not isinstance(data, dict):
        raise SpecError(f"{source}: a study spec must be a mapping of fields, got {type(data).__name__}")
    try:
        return StudySpec.model_validate(data)
    except ValidationError as error:
        lines = []
        for problem in error.errors():
            message = problem["msg"].removeprefix("Value error, ")
            if problem["type"] == "extra_forbidden":
                message = "unknown key"
            lines.append(f"  {_field_name(problem['loc'])}: {message}")
        raise SpecError(f"{source}: invalid study spec\n" + "\n".join(lines)) from None
