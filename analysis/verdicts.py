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


def _sensitivity_answer(mode: str, low: float, high: float) -> str:
    if pd.isna(low) or pd.isna(high):
        return "no interval (fewer than 3 seeds per starting weight), so no conclusion"
    if high < 1:
        return f"{mode} is less sensitive to the starting weight (the interval lies below 1)"
    if low > 1:
        return f"{mode} is more sensitive to the starting weight (the interval lies above 1)"
    return "no detectable difference in sensitivity to the starting weight (the interval contains 1)"


def _in_band_share(calibration: dict[str, pd.DataFrame] | None, mode: str) -> pd.Series:
    in_band = (calibration or {}).get("in_band")
    if in_band is None or not len(in_band):
        return pd.Series(dtype=float)
    return in_band[in_band["weighting"] == mode]["in_band_mean"]


def level_sentence(result: dict, mode: str) -> str:
    """Where the mode's final metric lies against the best fixed start and all fixed starts (`analysis.level`)."""
    level = result.get("level")
    if level is None or not len(level) or mode not in set(level["weighting"]):
        return ""
    label, weight = label_of(result["metric"]), result["weight"]
    rows = level[level["weighting"] == mode].set_index("reference")
    parts = []
    for reference, row in rows.iterrows():
        where = (f"the best fixed {weight} ({row['reference_start']:.3g}), {row['reference_mean']:.3g}"
                 if reference == "best fixed start" else f"all fixed starts, {row['reference_mean']:.3g}")
        relation = {mode: "better", "fixed": "worse"}.get(row["better"], "no detectable difference")
        test = f"Welch p = {row['p_value']:.2g}" if pd.notna(row["p_value"]) else "no test: no variance"
        parts.append(f"against {where}: {row['difference']:+.3g}{_interval(row['ci_low'], row['ci_high'])} ({test}), {relation}")
    mean = rows["mean"].iloc[0]
    return f" Level: {mode}'s final {label} over all starts is {mean:.3g}; " + "; ".join(parts) + "."


def comparison_verdict(result: dict, calibration: dict[str, pd.DataFrame] | None = None) -> str:
    """The fixed-vs-adaptive answer for one method from `compare_fixed_adaptive`'s result; with the
    controller's calibration (`analysis.calibration.calibrate`), whether the controller could act at all.
    Other controlled modes (annealed) follow with their own spread ratio, test, time in band and level."""
    ratio, low, high = result["spread_ratio"], result["spread_ratio_ci_low"], result["spread_ratio_ci_high"]
    answer = _sensitivity_answer("adaptive", low, high)
    band = ""
    adaptive = _in_band_share(calibration, "adaptive")
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
    sentence = (f"{result['method']}, {weight}: spread of the final {label} across starting weights, adaptive / fixed = {ratio:.3g}"
                f"{_interval(low, high)}{' (95% BCa)' if pd.notna(low) and pd.notna(high) else ''}; "
                f"Brown-Forsythe test of equal spread p = {result['brown_forsythe_p']:.2g}: {answer}.{band}"
                f"{level_sentence(result, 'adaptive')}")
    return sentence + "".join(_other_mode_sentence(result, mode, calibration) for mode in _other_modes(result))


def _other_modes(result: dict) -> list[str]:
    ratios = result.get("spread_ratios")
    if ratios is None or not len(ratios):
        return []
    return [m for m in ordered_weightings(ratios["weighting"].unique()) if m not in ("fixed", "adaptive")]


def _other_mode_sentence(result: dict, mode: str, calibration: dict[str, pd.DataFrame] | None) -> str:
    ratio = result["spread_ratios"].set_index("weighting").loc[mode]
    tests = result["equal_spread_tests"]
    p_value = tests[(tests["weighting"] == mode) & (tests["test"] == "brown_forsythe")]["p_value"]
    low, high = ratio["spread_ratio_ci_low"], ratio["spread_ratio_ci_high"]
    shares = _in_band_share(calibration, mode)
    band = f" In band {shares.min():.0%}-{shares.max():.0%} of steps (mean per start)." if len(shares) else ""
    return (f" {mode.capitalize()}: spread ratio {mode} / fixed = {ratio['spread_ratio']:.3g}{_interval(low, high)}"
            f"{' (95% BCa)' if pd.notna(low) and pd.notna(high) else ''}; Brown-Forsythe p = "
            f"{float(p_value.iloc[0]) if len(p_value) else math.nan:.2g}: {_sensitivity_answer(mode, low, high)}.{band}"
            f"{level_sentence(result, mode)}")
