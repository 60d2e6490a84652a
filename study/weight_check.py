"""A spec may only sweep weights that move training: the weight-effect check, run before Ray starts.

For every method entry, the weights the design varies are probed with
`trainables.weight_effect` on the spec's own data and options. A swept weight that cannot act
(Adam cancels it, or the options switch its term off) is refused, and so is a design that
varies every weight of a method whose loss depends only on their ratios: scaling all of them
moves nothing, so one of the design's dimensions would measure noise. There the message asks
for one weight to be held fixed as the reference; the others' values are then ratios to it.
"""

from __future__ import annotations

from collections.abc import Callable

from trainables.datasets import Splits
from trainables.methods import METHODS
from trainables.weight_effect import EffectReport, EffectSettings, check_weight_effects

from .spec import MethodEntry, SpecError, StudySpec

PROBE_IMAGES = 1024  # enough distinct batches for the probe's steps, little to copy


def swept_weights(entry: MethodEntry, search_kind: str) -> list[str]:
    """The weights whose value varies across the design, in the method's declared order."""
    swept = []
    for spec in METHODS[entry.name].weights:
        sweep = entry.weights.get(spec.name)
        if sweep is None:
            continue
        low, high = sweep.bounds
        grid_points = len(set(sweep.grid())) if search_kind == "grid" else 2
        if low < high and grid_points > 1:
            swept.append(spec.name)
    return swept


def check_spec_weights(spec: StudySpec, splits: Splits, report: Callable[[str], None] = print) -> dict[int, EffectReport]:
    """Run the weight-effect check for every method entry that sweeps a weight; raise SpecError on the first refusal.

    `report` receives one line per probed weight (progress output: the probe trains a few dozen
    steps per weight on the CPU). Returns the reports by entry index.
    """
    images = splits.train.images[:PROBE_IMAGES].cpu()
    settings = EffectSettings(batch_size=min(spec.batch_size, images.shape[0]))
    reports: dict[int, EffectReport] = {}
    for index, entry in enumerate(spec.methods):
        swept = swept_weights(entry, spec.search.kind)
        if not swept:
            continue
        method = METHODS[entry.name]
        report(f"weight-effect check: {entry.name} ({', '.join(swept)}) on {spec.dataset.name} images, options {entry.options or 'defaults'}")
        effects = check_weight_effects(method, images, entry.options, settings=settings, only=swept)
        for line in effects.lines():
            report(f"  {line}")
        where = f"methods[{index}] ({entry.name})"
        for weight in effects.inert:
            effect = effects.weights[weight]
            strongest = effect.strongest
            raise SpecError(
                f"{where}: the design sweeps {weight}, which cannot act under options {entry.options or '(defaults)'}: "
                f"scaling it x{settings.factor:g} moves the parameter updates at most {strongest.change:.2%} "
                f"({strongest.group}), within the optimizer's floor ({strongest.floor:.2%}; an effect needs "
                f"{max(settings.margin * strongest.floor, settings.min_change):.2%}). Do not sweep it, or choose options "
                f"under which its term is trained (see `study methods` for what each weight weighs)"
            )
        if effects.ratio_only:
            reference = method.weights[-1]
            raise SpecError(
                f"{where}: the design sweeps every weight of {entry.name} ({', '.join(swept)}), but its loss depends only on "
                f"their ratios: scaling all of them x{settings.factor:g} moves the updates at most "
                f"{effects.all_weights.strongest.change:.2%}, within the optimizer's floor. Hold one fixed as the reference "
                f"(e.g. {reference.name}: {{values: [{reference.default:g}]}}); the others' values are then ratios to it"
            )
        reports[index] = effects
    return reports
