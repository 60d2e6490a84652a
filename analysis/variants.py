"""Entries of one method that ran with different options are different models: keep them apart.

A spec may list a method twice (AAE with 16 and with 30 clusters, say). Every index groups trials
by `config/method`, so without this step the two would be pooled into one sensitivity curve or
one fixed-vs-adaptive comparison. `label_option_variants` renames such a method's trials to
`<method>[<option>=<value>,...]`, naming only the options that differ, and keeps the plain name in
`config/method_name`. An option an entry left out counts as the method's default.
"""

from __future__ import annotations

import pandas as pd

OPTION_PREFIX = "config/options/"
BASE_NAME = "config/method_name"


def hashable(value):
    """Option values as group keys: lists and dicts (a spec's `conv_widths`, say) by their text."""
    return str(value) if isinstance(value, (list, tuple, dict)) else value


def default_option(method: str, option: str):
    """The value a method runs with when a spec leaves `option` out (None for an unknown method)."""
    from trainables.methods import METHODS  # torch, only when a frame has options

    cls = METHODS.get(method)
    return cls.option_defaults.get(option) if cls is not None else None


def filled_options(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every `config/options/<name>` blank replaced by the method's default, as group keys."""
    frame = frame.copy()
    for column in sorted(c for c in frame.columns if c.startswith(OPTION_PREFIX)):
        option = column.removeprefix(OPTION_PREFIX)
        defaults = frame["config/method"].map(lambda method, option=option: default_option(method, option))
        frame[column] = frame[column].where(frame[column].notna(), defaults).map(hashable)
    return frame


def varying_options(frame: pd.DataFrame) -> dict[str, list[str]]:
    """Per method, the option columns whose (default-filled) values differ between its trials."""
    filled = filled_options(frame)
    columns = sorted(c for c in filled.columns if c.startswith(OPTION_PREFIX))
    found: dict[str, list[str]] = {}
    for method, rows in filled.groupby("config/method"):
        differing = [c for c in columns if rows[c].nunique(dropna=False) > 1]
        if differing:
            found[str(method)] = differing
    return found


def _shown(value) -> str:
    """An option value as a label shows it: a missing one (a default of None, read back as NaN) as None."""
    return "None" if not isinstance(value, str) and pd.isna(value) else str(value)


def _label(method: str, row: pd.Series, columns: list[str]) -> str:
    return f"{method}[{','.join(f'{c.removeprefix(OPTION_PREFIX)}={_shown(row[c])}' for c in columns)}]"


def label_option_variants(frame: pd.DataFrame) -> pd.DataFrame:
    """The tidy frame with each option variant of a method as a method of its own (see the module doc).
    A frame whose methods each ran with one set of options comes back unchanged but for `config/method_name`;
    a frame labelled already comes back as it is."""
    if BASE_NAME in frame.columns:
        return frame
    labelled = frame.copy()
    labelled[BASE_NAME] = labelled["config/method"]
    varying = varying_options(frame)
    if not varying:
        return labelled
    filled = filled_options(frame)
    for method, columns in varying.items():
        rows = filled["config/method"] == method
        labelled.loc[rows, "config/method"] = filled.loc[rows].apply(lambda row, m=method, c=columns: _label(m, row, c), axis=1)
    return labelled


def variants_of(frame: pd.DataFrame, method: str) -> list[str]:
    """The labels under which `method` (a plain name or a label) appears in a labelled frame."""
    if method in set(frame["config/method"]):
        return [method]
    return sorted(frame.loc[frame[BASE_NAME] == method, "config/method"].unique().tolist())
