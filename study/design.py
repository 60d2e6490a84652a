"""The trial plan: which configs a spec asks for, and the Optuna space when it searches.

Sensitivity needs comparable trials, so the designs here are space-filling and put the seed
in the design itself (Tune's Repeater does not mix with early stopping):
- grid: the product of each weight's grid points, for every weighting mode, times the seeds;
- quasi_random: `samples` scrambled Sobol points over the weights' box, times the seeds;
- optuna: TPE through Tune's OptunaSearch over the same box, the seed one more categorical
  dimension (TPE picks seeds as it likes; use the space-filling designs to measure spread).
"""

from __future__ import annotations

import itertools
from typing import Any

import optuna
from scipy.stats import qmc

from trainables.methods import METHODS

from .spec import MethodEntry, StudySpec


PLAN_LINES = 1000  # trials a dry run lists one per line (about 80 kB)


def _trial_base(spec: StudySpec, entry: MethodEntry, weighting: str) -> dict[str, Any]:
    return {
        "dataset": spec.dataset.name,
        "method": entry.name,
        "weighting": weighting,
        "options": dict(entry.options),
        "controller": dict(entry.controller),
        "epochs": spec.epochs,
        "batch_size": spec.batch_size,
        "eval_size": spec.dataset.eval_size,
        "eval_every": spec.eval_every,
        "fault": spec.fault_injection.model_dump() if spec.fault_injection else None,
    }


def _weight_points(spec: StudySpec, entry: MethodEntry, index: int) -> list[dict[str, float]]:
    swept = entry.swept
    defaults = {w.name: w.default for w in METHODS[entry.name].weights}
    if not swept:
        return [defaults]
    if spec.search.kind == "grid":
        combos = itertools.product(*(r.grid() for r in swept.values()))
        return [{**defaults, **dict(zip(swept, combo))} for combo in combos]
    sampler = qmc.Sobol(d=len(swept), scramble=True, seed=spec.search.seed + index)
    unit = sampler.random(spec.search.samples)
    return [{**defaults, **{name: r.from_unit(u) for (name, r), u in zip(swept.items(), row)}} for row in unit]


def trial_configs(spec: StudySpec) -> list[dict[str, Any]]:
    """Every trial of a grid or quasi-random design; the same weight points for each weighting mode.

    Fixed and adaptive runs of a method share their starting weights and seeds, so the two
    modes can be compared start by start.
    """
    if spec.search.kind == "optuna":
        raise ValueError("an optuna search has no fixed plan; use optuna_space")
    configs = []
    for index, entry in enumerate(spec.methods):
        points = _weight_points(spec, entry, index)
        for weighting in entry.weighting:
            for weights in points:
                for seed in spec.seeds:
                    configs.append({**_trial_base(spec, entry, weighting), "weights": dict(weights), "seed": seed})
    return configs


class OptunaSpace:
    """A define-by-run space for OptunaSearch: method, weighting, weights and seed.

    A class rather than a closure because Tune pickles the searcher (and so this space) into
    the experiment's state for resuming.
    """

    def __init__(self, spec: StudySpec) -> None:
        self.spec = spec

    def __call__(self, trial: optuna.Trial) -> dict[str, Any]:
        entries = {entry.name: entry for entry in self.spec.methods}
        name = trial.suggest_categorical("method", list(entries)) if len(entries) > 1 else next(iter(entries))
        entry = entries[name]
        modes = entry.weighting
        weighting = trial.suggest_categorical(f"{name}.weighting", modes) if len(modes) > 1 else modes[0]
        weights = {w.name: w.default for w in METHODS[name].weights}
        for weight, sweep in entry.swept.items():
            low, high = sweep.bounds
            weights[weight] = trial.suggest_float(f"{name}.{weight}", low, high, log=sweep.log)
        seed = trial.suggest_categorical("seed", list(self.spec.seeds))
        constants = _trial_base(self.spec, entry, weighting)
        constants.update(weights=weights, seed=seed)
        return constants


def _varying_options(configs: list[dict], method: str) -> list[str]:
    """Options whose values differ between a method's trials (a spec that lists the method twice)."""
    values: dict[str, set[str]] = {}
    for config in configs:
        if config["method"] == method:
            for key, value in config.get("options", {}).items():
                values.setdefault(key, set()).add(repr(value))
    return sorted(key for key, seen in values.items() if len(seen) > 1)


def describe_plan(spec: StudySpec) -> str:
    """A human-readable trial plan for --dry-run."""
    lines = [f"study {spec.name}: dataset {spec.dataset.name}, {spec.epochs} epochs, seeds {spec.seeds}"]
    lines.append(f"search {spec.search.kind}, scheduler {spec.scheduler.kind}, metric {spec.metric} ({spec.mode})")
    if spec.search.kind == "optuna":
        lines.append(f"{spec.search.samples} Optuna TPE trials over:")
        for entry in spec.methods:
            ranges = ", ".join(f"{w} in [{r.bounds[0]:g}, {r.bounds[1]:g}] ({r.scale})" for w, r in entry.swept.items())
            lines.append(f"  {entry.name} ({'/'.join(entry.weighting)}): {ranges or 'defaults'}")
        return "\n".join(lines)
    configs = trial_configs(spec)
    lines.append(f"{len(configs)} trials:")
    for i, config in enumerate(configs[:PLAN_LINES]):
        weights = ", ".join(f"{k}={v:.4g}" for k, v in config["weights"].items())
        options = ", ".join(f"{k}={config['options'][k]}" for k in _varying_options(configs, config["method"]))
        lines.append(f"  {i:4d}  {config['method']:<12} {config['weighting']:<9} {weights:<30} seed={config['seed']}{'  ' + options if options else ''}")
    if len(configs) > PLAN_LINES:
        lines.append(f"  ... and {len(configs) - PLAN_LINES} more (the first {PLAN_LINES} shown)")
    return "\n".join(lines)
