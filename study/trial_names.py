"""Trial folders named by what varies between trials: method, weighting, starting weights, options, seed.

Tune's default folder name lists every config key in alphabetical order (`batch_size=64,
controller=...`) and is cut at 130 characters, so the weights and seed a reader looks for are
often cut off. Here, with only the weights the study sweeps: `factor_vae-adaptive-gamma=20-seed=3-<trial
id>`; the trial id keeps apart two trials whose compactly formatted weights coincide. Options that
differ between a method's entries in the spec (a pilot listing imae with four `tc_weight`s) follow
the weights: `imae-fixed-beta=5-gamma=5-tc_weight=4-seed=0-<trial id>`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .spec import StudySpec

MAX_LENGTH = 96  # the whole folder name; the weights give way first (cut, ending in "~") when a name would be longer
_UNSAFE = re.compile(r"[^A-Za-z0-9._=+-]+")  # portable file-name characters; everything else becomes "_"


class TrialNamer:
    """Tune's `trial_dirname_creator` for one study: shows each method's swept weights only (the others
    hold their defaults in every trial). A class of this module, not a closure: Tune pickles the namer
    into the experiment's state (its class by reference), and `study resume` unpickles it."""

    def __init__(self, swept: Mapping[str, Sequence[str]], varying_options: Mapping[str, Sequence[str]] | None = None) -> None:
        self.swept = {method: list(names) for method, names in swept.items()}
        self.varying_options = {method: list(names) for method, names in (varying_options or {}).items()}

    @classmethod
    def for_spec(cls, spec: StudySpec) -> "TrialNamer":
        """The weights each method sweeps in any of its entries (a method may have several), and the
        options whose values differ between its entries (absent in one entry counts as different)."""
        swept: dict[str, list[str]] = {}
        entries_options: dict[str, list[dict[str, Any]]] = {}
        for entry in spec.methods:
            swept.setdefault(entry.name, [])
            swept[entry.name] += [name for name in entry.swept if name not in swept[entry.name]]
            entries_options.setdefault(entry.name, []).append(dict(entry.options))
        varying = {}
        for method, options in entries_options.items():
            keys = sorted(set().union(*options))
            varying[method] = [key for key in keys if len({repr(o.get(key, _ABSENT)) for o in options}) > 1]
        return cls(swept, varying)

    def __call__(self, trial: Any) -> str:
        """Called by Tune with the Trial once its config is resolved."""
        method = trial.config.get("method")
        options = getattr(self, "varying_options", {}).get(method, [])  # a namer pickled before options were named has none
        return trial_folder_name(trial.config, trial.trial_id, self.swept.get(method), options)


_ABSENT = "<absent>"


def trial_folder_name(config: Mapping[str, Any], trial_id: str, shown: Sequence[str] | None = None, options: Sequence[str] = ()) -> str:
    """`<method>-<weighting>-<weight>=<value>...-<option>=<value>...-seed=<seed>-<trial id>`, filesystem-safe,
    at most MAX_LENGTH long.

    `shown`: the weights to name (those the study sweeps); None: every weight in the config.
    `options`: the options to name (those that differ between the method's entries), where the config sets them."""
    head = [_safe(config[key]) for key in ("method", "weighting") if config.get(key) is not None]
    tail = ([f"seed={_safe(config['seed'])}"] if config.get("seed") is not None else []) + [_safe(trial_id)]
    weights = {name: value for name, value in _weights(config).items() if shown is None or name in shown}
    set_options = config.get("options") if isinstance(config.get("options"), Mapping) else {}
    weights |= {name: set_options[name] for name in options if name in set_options and name not in weights}
    text = "-".join(f"{_safe(name)}={_safe(_compact(value))}" for name, value in weights.items())
    room = MAX_LENGTH - len("-".join(head + tail)) - 1
    if len(text) > room:
        text = text[: max(room - 1, 0)].rstrip("-=") + "~" if room > 1 else ""
    name = "-".join(head + ([text] if text else []) + tail)
    return name[-MAX_LENGTH:]  # only if the fixed parts alone are too long: keep the unique end


def _weights(config: Mapping[str, Any]) -> dict[str, Any]:
    """The starting weights, nested (`weights: {gamma: 20}`) or flattened (`weights/gamma: 20`)."""
    nested = config.get("weights")
    if isinstance(nested, Mapping):
        return dict(nested)
    return {key.split("/", 1)[1]: value for key, value in config.items() if key.startswith("weights/")}


def _compact(value: Any) -> str:
    """Three significant digits for numbers (4.6415888 -> 4.64, 20.0 -> 20); anything else as text."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return format(value, ".3g")


def _safe(value: Any) -> str:
    return _UNSAFE.sub("_", str(value)).strip("_") or "_"
