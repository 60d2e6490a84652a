"""The answer of a report in plain sentences: one per method, with its interval and its test.

Reports open with these lines and `study report` / `study compare` print them in the terminal, so
a reader gets the result before any table. Wording follows the statistics: an interval that
contains the null value, or a large p-value, reads "no detectable ...", never "insensitive".
"""

from __future__ import annotations

import math

import pandas as pd

from trainables.metric_registry import label_of

from .core.frame import ordered_weightings

SIGNIFICANCE = 0.05


def effect_verdict(p_value: float) -> str:
    """What the permutation test supports, in words: never 'insensitive', which no test can show."""
    if pd.isna(p_value):
        return ""
    return f"effect (p = {p_value:.2g})" if p_value < SIGNIFICANCE else f"no detectable effect (p = {p_value:.2g})"


def _interval(low: float, high: float, percent: bool = False) -> str:
    if pd.isna(low) or pd.isna(high):
        return " (no interval: too few seeds)"
    return f" [{low:.0%}, {high:.0%}]" if percent else f" [{low:.3g}, {high:.3g}]"


def sensitivity_verdicts(indices: pd.DataFrame, metric: str) -> list[str]:
    """One sentence per method x weighting x varied weight for `metric`, from `sensitivity_indices` rows."""
    rows = indices[indices["metric"] == metric]
    label = label_of(metric)
    sentences = []
    order = {mode: i for i, mode in enumerate(ordered_weightings(rows["weighting"].unique()))}
    groups = sorted(rows.groupby(["method", "weighting", "weight"]), key=lambda item: (item[0][0], order[item[0][1]], item[0][2]))
    for (method, weighting, weight), group in groups:
        by_index = group.drop_duplicates("index").set_index("index")
        if "range" not in by_index.index or pd.isna(by_index.loc["range", "value"]):
            continue  # the weight was not varied, or no trial has a value
        means = group[group["index"] == "seed_mean"].dropna(subset=["value"])
        best, spread, share = by_index.loc["best"], by_index.loc["range"], by_index.loc["weight_share"]
        worst = means["value"].min() if best["mode"] == "max" else means["value"].max()
        test = effect_verdict(by_index["value"].get("no_effect_p", math.nan)) or "no permutation test (too few trials per block)"
        share_text = (f"; the weight explains {share['value']:.0%}{_interval(share['ci_low'], share['ci_high'], percent=True)} of the variance, seeds the rest"
                      if pd.notna(share["value"]) else "")
        sentences.append(
            f"{method} ({weighting}), {weight} from {means['weight_value'].min():.3g} to {means['weight_value'].max():.3g}: {test} on {label}. "
            f"Seed-mean {label} at epoch {int(best['budget'])} spans {worst:.3g} to {best['value']:.3g} (best at {weight} = {best['weight_value']:.3g}), "
            f"range {spread['value']:.3g}{_interval(spread['ci_low'], spread['ci_high'])}{share_text}; {int(best['n_seeds'])} seeds."
        )
    return sentences


# Time in band (mean share of steps per start) from which a controller counts as having reached a band that
# no swept fixed weight reaches: a quarter of the steps, far above what batch-to-batch noise of the accuracy
# gives around a band out of reach (the short-budget study's accuracy of 0.54-0.66 against 0.70-0.80).
IN_BAND_ACTED = 0.25


def comparison_verdict(result: dict, calibration: dict[str, pd.DataFrame] | None = None) -> str:
    """The fixed-vs-adaptive answer for one method from `compare_fixed_adaptive`'s result; with the
    controller's calibration (`analysis.calibration.calibrate`), whether the controller could act at all."""
    ratio, low, high = result["spread_ratio"], result["spread_ratio_ci_low"], result["spread_ratio_ci_high"]
    if pd.isna(low) or pd.isna(high):
        answer = "no interval (fewer than 3 seeds per starting weight), so no conclusion"
    elif high < 1:
        answer = "adaptive is less sensitive to the starting weight (the interval lies below 1)"
    elif low > 1:
        answer = "adaptive is more sensitive to the starting weight (the interval lies above 1)"
    else:
        answer = "no detectable difference in sensitivity to the starting weight (the interval contains 1)"
    band = ""
    in_band = (calibration or {}).get("in_band")
    adaptive = pd.Series(dtype=float)
    if in_band is not None and len(in_band):
        adaptive = in_band[in_band["weighting"] == "adaptive"]["in_band_mean"]
        if len(adaptive):
            band = f" The controller's accuracy was inside its band for {adaptive.min():.0%}-{adaptive.max():.0%} of steps (mean per start)."
    bands = (calibration or {}).get("bands")
    if bands is not None and bands["reachable"].str.startswith("not reached").all():
        accuracy, targets = bands["accuracy_range"].iloc[0], ", ".join(bands["band"])
        if len(adaptive) and adaptive.min() >= IN_BAND_ACTED:
            # the band lies outside the swept weights, but the controller found it there: it acted
            band += (f" The fixed runs' discriminator accuracy ({accuracy}) reached the controller's band ({targets}) at no swept "
                     "weight; the adaptive trials reached it by moving the weight beyond the swept range, so no fixed start "
                     "sits where the controller holds its band.")
        else:
            band += (f" Caution: the fixed runs' discriminator accuracy ({accuracy}) never reached the controller's band "
                     f"({targets}), so the controller could only move the weight one way: this comparison cannot show "
                     "what the controller does where it can act.")
    weight, label = result["weight"], label_of(result["metric"])
    return (f"{result['method']}, {weight}: spread of the final {label} across starting weights, adaptive / fixed = {ratio:.3g}"
            f"{_interval(low, high)}{' (95% BCa)' if pd.notna(low) and pd.notna(high) else ''}; "
            f"Brown-Forsythe test of equal spread p = {result['brown_forsythe_p']:.2g}: {answer}.{band}")
