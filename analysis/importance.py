"""Which loss weight matters most: per-weight importance from Optuna's fANOVA and PED-ANOVA.

The trials of each method x weighting are rebuilt as an Optuna study (one Optuna trial per
trial, its metric at the budget as the value, every varied weight a log-scaled
FloatDistribution over the observed range) and handed to Optuna's importance evaluators.
Output: one row per method x weighting x evaluator x weight, columns `IMPORTANCE_COLUMNS`,
meanings in `INDEX_DEFINITIONS`. Importances of one evaluator sum to 1 over a group's varied
weights.

The budget and the treatment of trials follow `analysis.sensitivity`: by default each method's
trials are compared at the largest epoch they all reached; diverged trials have no value, so
they are left out of the study and counted in `n_diverged`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import numpy as np
import optuna
import pandas as pd

from .core.budgets import trial_values
from .core.frame import WEIGHT_PREFIX, canonical_weights, metric_mode
from .variants import label_option_variants

EVALUATORS = ("fanova", "ped_anova")
MIN_TRIALS = 4
IMPORTANCE_COLUMNS = [
    "method", "weighting", "metric", "mode", "budget", "evaluator", "weight", "importance",
    "n_trials", "n_diverged", "caveat", "note",
]
GUIDED_CAVEAT = (
    "biased: a guided sampler (e.g. TPE) chose these trials where the metric looked good, so the "
    "importance describes that region, not the whole weight range"
)
UNGUIDED_CAVEAT = "none: trials from a grid or quasi-random design"

INDEX_DEFINITIONS: dict[str, str] = {
    "method": "The representation-learning method the trials trained.",
    "weighting": "How the loss weights were handled during training (fixed, adaptive or annealed); modes are analysed separately.",
    "metric": "The evaluation metric the importance is computed for.",
    "mode": "Whether larger ('max') or smaller ('min') values of the metric are better; sets the study's direction.",
    "budget": "The training epoch whose metric value each trial contributes.",
    "evaluator": "The Optuna importance evaluator: 'fanova' (variance of a random forest's marginals) or 'ped_anova' (how the weight's distribution among the top trials differs from all trials).",
    "weight": "The loss weight the importance is about.",
    "importance": "The weight's share of the evaluator's total importance over the group's varied weights (they sum to 1).",
    "n_trials": "Trials with a finite metric value at the budget, the study's trials.",
    "n_diverged": "Trials that diverged by the budget, left out of the study because they have no metric value.",
    "caveat": "Whether the trials were chosen by a guided sampler, which biases importance towards the region it favoured.",
    "note": "Why an importance is NaN or trivial, and what the evaluator warned about.",
}


@contextmanager
def _quiet_optuna() -> Iterator[list[warnings.WarningMessage]]:
    """Silence Optuna's info logging and collect its warnings (returned for the `note` column)."""
    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield caught
    finally:
        optuna.logging.set_verbosity(previous)


def _varied_weights(trials: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The group's weight columns that take more than one value, and those that are constant."""
    carried = [c for c in trials.columns if c.startswith(WEIGHT_PREFIX) and trials[c].notna().all()]
    varied = [c for c in carried if np.unique(canonical_weights(trials[c])).size > 1]
    return varied, [c for c in carried if c not in varied]


def build_study(trials: pd.DataFrame, weights: Sequence[str], mode: str) -> optuna.Study:
    """An in-memory Optuna study holding one completed trial per row of `trials` (finite `value` only).

    Each weight gets FloatDistribution(min, max, log=True) over its observed values (rounded to
    10 significant digits, so float noise does not widen the range).
    """
    values = {w.removeprefix(WEIGHT_PREFIX): canonical_weights(trials[w]) for w in weights}
    distributions = {name: optuna.distributions.FloatDistribution(float(v.min()), float(v.max()), log=True) for name, v in values.items()}
    study = optuna.create_study(direction="maximize" if mode == "max" else "minimize", sampler=optuna.samplers.RandomSampler(seed=0))
    for i, value in enumerate(trials["value"].to_numpy(dtype=float)):
        params = {name: float(v[i]) for name, v in values.items()}
        study.add_trial(optuna.trial.create_trial(params=params, distributions=distributions, value=float(value)))
    return study


def ped_anova_quantile(n_trials: int, requested: float | None) -> float:
    """PED-ANOVA's target quantile: `requested`, or 0.1 raised so that about 5 trials are in the top (at most 0.5).

    Optuna's documentation recommends at least 5 trials above the target quantile.
    """
    if requested is not None:
        return requested
    return float(min(0.5, max(0.1, 5 / n_trials)))


def _evaluator(name: str, ped_anova_target: float, seed: int) -> optuna.importance.BaseImportanceEvaluator:
    if name == "fanova":
        return optuna.importance.FanovaImportanceEvaluator(seed=seed)
    return optuna.importance.PedAnovaImportanceEvaluator(target_quantile=ped_anova_target)


def _evaluate(study: optuna.Study, name: str, params: list[str], ped_anova_target_quantile: float | None, seed: int) -> tuple[dict[str, float], str]:
    """Normalised importances of `params` by one evaluator, and a note (Optuna's warnings, or why NaN)."""
    quantile = ped_anova_quantile(len(study.trials), ped_anova_target_quantile)
    with _quiet_optuna() as caught:
        evaluator = _evaluator(name, quantile, seed)
        raw = optuna.importance.get_param_importances(study, evaluator=evaluator, params=params, normalize=False)
    notes = sorted({str(w.message) for w in caught if "normalize" not in str(w.message)})
    if name == "ped_anova":
        notes.insert(0, f"target quantile {quantile:g}")
    total = sum(raw.values())
    if not total > 0:
        return {p: np.nan for p in params}, "; ".join(["the evaluator found no importance at all", *notes])
    return {p: raw[p] / total for p in params}, "; ".join(notes)


def _group_rows(trials: pd.DataFrame, mode: str, evaluators: Sequence[str], min_trials: int,
                ped_anova_target_quantile: float | None, seed: int) -> list[dict]:
    """Importance rows of one method x weighting (without the context columns)."""
    varied, constant = _varied_weights(trials)
    usable = trials[np.isfinite(trials["value"].to_numpy(dtype=float))]
    counts = {"n_trials": len(usable), "n_diverged": int(trials["diverged"].sum())}
    missing = int((~trials["diverged"] & ~np.isfinite(trials["value"].to_numpy(dtype=float))).sum())
    extra = f"{missing} trials have no value at the budget" if missing else ""

    def row(name: str, weight: str, importance: float, note: str) -> dict:
        return {"evaluator": name, "weight": weight.removeprefix(WEIGHT_PREFIX), "importance": importance, **counts, "note": note}

    def rows(name: str, importances: Mapping[str, float], note: str) -> list[dict]:
        note = "; ".join(n for n in (note, extra) if n)
        return [row(name, w, importances[w], note) for w in varied] + [row(name, w, np.nan, "weight not varied") for w in constant]

    reason = _degenerate(usable, varied, min_trials)
    if reason:
        return [r for name in evaluators for r in rows(name, {w: np.nan for w in varied}, reason)]
    if len(varied) == 1:
        return [r for name in evaluators for r in rows(name, {varied[0]: 1.0}, "only one weight varies: its importance is 1 trivially")]
    with _quiet_optuna():
        study = build_study(usable, varied, mode)
    params = [w.removeprefix(WEIGHT_PREFIX) for w in varied]
    out = []
    for name in evaluators:
        importances, note = _evaluate(study, name, params, ped_anova_target_quantile, seed)
        out += rows(name, {w: importances[w.removeprefix(WEIGHT_PREFIX)] for w in varied}, note)
    return out


def _degenerate(usable: pd.DataFrame, varied: list[str], min_trials: int) -> str:
    """Why importance cannot be computed from these trials ('' if it can)."""
    if not varied:
        return "no weight varies"
    if len(usable) < min_trials:
        return f"only {len(usable)} trials with a finite value (need {min_trials})"
    if usable["value"].nunique() < 2:
        return "metric constant across trials"
    return ""


def weight_importance(
    frame: pd.DataFrame,
    metric: str,
    *,
    guided: bool,
    mode: str | None = None,
    budget: int | Mapping[str, int] | None = None,
    evaluators: Sequence[str] = EVALUATORS,
    min_trials: int = MIN_TRIALS,
    ped_anova_target_quantile: float | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Per-weight importance for a metric by fANOVA and PED-ANOVA, to see which loss weight the result hinges on.

    The importance of a weight is its share of the evaluator's importance over the group's varied
    weights. `guided`: True if a guided sampler (e.g. TPE) chose the trials; the `caveat` column
    then says the importance is biased. A group with a single varied weight gets 1.0 (trivial,
    noted); fewer than `min_trials` finite trials or a constant metric give NaN with the reason.
    `budget`: as in `analysis.sensitivity.trial_values`. `seed`: fANOVA's forest seed.
    Columns: `IMPORTANCE_COLUMNS`.
    """
    mode = metric_mode(metric, mode)
    unknown = [e for e in evaluators if e not in EVALUATORS]
    if unknown:
        raise ValueError(f"unknown evaluator(s) {unknown}; choose from {list(EVALUATORS)}")
    if ped_anova_target_quantile is not None and not 0 < ped_anova_target_quantile < 1:
        raise ValueError(f"ped_anova_target_quantile must lie in (0, 1), got {ped_anova_target_quantile}")
    trials = trial_values(label_option_variants(frame), metric, budget)  # option variants apart
    caveat = GUIDED_CAVEAT if guided else UNGUIDED_CAVEAT
    rows = []
    for (method, weighting), group in trials.groupby(["method", "weighting"], sort=True):
        context = {"method": method, "weighting": weighting, "metric": metric, "mode": mode, "budget": int(group["budget"].iloc[0]), "caveat": caveat}
        rows += [context | row for row in _group_rows(group, mode, evaluators, min_trials, ped_anova_target_quantile, seed)]
    return pd.DataFrame(rows, columns=IMPORTANCE_COLUMNS)
