"""Do early budgets tell the same story as the final one? Indices per rung, and rank agreement.

ASHA stops trials on their metric at a rung; that is only safe when the ranking at the rung
predicts the ranking at the end. `rung_table` repeats the sensitivity indices at every rung,
`ranking_agreement` gives the Spearman correlation between each rung's ranking and the final one.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from .core.budgets import final_budgets, rung_budgets, trial_values
from .core.frame import validate_frame
from .sensitivity import INDEX_COLUMNS, sensitivity_indices
from .variants import label_option_variants, variants_of

AGREEMENT_COLUMNS = ["method", "weighting", "metric", "budget", "final_budget", "spearman", "p_value", "n_trials", "note"]


def _per_variant(frame: pd.DataFrame, budgets: Mapping[str, Iterable[int]]) -> dict[str, Iterable[int]]:
    """Budgets given for a method hold for each of its option variants (a labelled frame's methods)."""
    return {label: epochs for name, epochs in budgets.items() for label in (variants_of(frame, name) or [name])}


def rung_table(frame: pd.DataFrame, metric: str, *, budgets: Mapping[str, Iterable[int]] | None = None, **options) -> pd.DataFrame:
    """The sensitivity indices at every budget where trials were compared, to see whether early rungs tell the same story.

    At each budget only the trials that reached it (or diverged by it) count, each with its value
    at that epoch; at the final budget that leaves the trials the scheduler kept, a selected subset.
    `budgets`: {method: epochs}, default `rung_budgets`. `options` go to `sensitivity_indices`.
    Same layout as `sensitivity_indices`; the `budget` column tells the rung.
    """
    validate_frame(frame, metric)
    frame = label_option_variants(frame)  # option variants apart
    chosen = rung_budgets(frame, metric) if budgets is None else _per_variant(frame, budgets)
    tables = []
    for method, epochs in chosen.items():
        method_rows = frame[frame["config/method"] == method]
        if method_rows.empty:
            raise ValueError(f"no trials of method {method!r} in the frame")
        tables += [sensitivity_indices(method_rows, metric, budget=int(epoch), **options) for epoch in sorted(set(epochs))]
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=INDEX_COLUMNS)


def _spearman(at_budget: pd.Series, at_final: pd.Series) -> tuple[float, float, int, str]:
    """Spearman correlation over the trials with a finite value at both budgets."""
    paired = pd.concat([at_budget, at_final], axis=1, join="inner").dropna()
    if len(paired) < 3:
        return np.nan, np.nan, len(paired), "fewer than 3 trials reached both budgets"
    if paired.iloc[:, 0].nunique() < 2 or paired.iloc[:, 1].nunique() < 2:
        return np.nan, np.nan, len(paired), "a ranking is constant (all values tied)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.ConstantInputWarning)
        result = stats.spearmanr(paired.iloc[:, 0], paired.iloc[:, 1])
    return float(result.statistic), float(result.pvalue), len(paired), ""


def ranking_agreement(frame: pd.DataFrame, metric: str, *, budgets: Mapping[str, Iterable[int]] | None = None) -> pd.DataFrame:
    """How far an early budget's ranking of trials predicts the final one: whether stopping on it was safe.

    For each method x weighting and each budget before the final one (default `rung_budgets`), the
    Spearman correlation (scipy.stats.spearmanr) between the trials' metric at that budget and at
    the final budget (`final_budgets`), over the trials with a finite value at both (diverged
    trials have none, so they are left out); `n_trials` is how many it rests on. NaN with a note
    below 3 trials or for a constant ranking. Columns: `AGREEMENT_COLUMNS`.
    """
    validate_frame(frame, metric)
    frame = label_option_variants(frame)  # option variants apart
    finals = final_budgets(frame, metric)
    chosen = rung_budgets(frame, metric) if budgets is None else _per_variant(frame, budgets)
    final_values = trial_values(frame, metric, finals).set_index("trial_id")
    rows = []
    for method, epochs in chosen.items():
        final = finals.get(method)
        if final is None:
            raise ValueError(f"no trials of method {method!r} in the frame")
        method_rows = frame[frame["config/method"] == method]
        for epoch in sorted(e for e in set(epochs) if e < final):
            early = trial_values(method_rows, metric, int(epoch)).set_index("trial_id")
            for weighting, group in early.groupby("weighting", sort=True):
                at_final = final_values.loc[final_values["weighting"].eq(weighting) & final_values["method"].eq(method), "value"]
                rho, p_value, n, note = _spearman(group["value"], at_final)
                rows.append({"method": method, "weighting": weighting, "metric": metric, "budget": int(epoch), "final_budget": final,
                             "spearman": rho, "p_value": p_value, "n_trials": n, "note": note})
    return pd.DataFrame(rows, columns=AGREEMENT_COLUMNS)
