"""`study compare`: the fixed-vs-adaptive report for every method run both ways in the experiments."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from trainables.metric_registry import METRICS, REPORTED, label_of

from . import figures
from .adaptive import compare_fixed_adaptive
from .calibration import calibrate
from .core.frame import metric_mode
from .glossary import COMPARISON_DEFINITIONS as DEFINITIONS
from .overview import add_overview, experiment_metadata
from .report import Report, check_out_dir
from .tidy import final_rows, load_experiment
from .variants import label_option_variants, variants_of
from .verdicts import comparison_verdict

# metrics compared when present, the first present one in full (figures), the rest as a table
COMPARED_METRICS = tuple(m for m in REPORTED if METRICS[m].family != "information")


def methods_run_both_ways(tidy: pd.DataFrame) -> list[str]:
    modes = tidy.groupby("config/method")["config/weighting"].agg(set)
    return sorted(m for m, s in modes.items() if {"fixed", "adaptive"} <= s)


def _metrics(tidy: pd.DataFrame, requested: list[str] | None) -> list[str]:
    if requested:
        missing = [m for m in requested if m not in tidy.columns]
        if missing:
            raise ValueError(f"metric(s) {missing} are not in the experiments' results")
        return requested
    final = final_rows(tidy)
    return [m for m in COMPARED_METRICS if m in final.columns and final[m].notna().any()]


def build_comparison(paths: list[str], out: str | Path, metrics: list[str] | None = None, method: str | None = None) -> dict[str, Path | list[str]]:
    """Load the experiments, compare fixed with adaptive weighting, write the report into `out`."""
    check_out_dir(out)
    tidy = label_option_variants(load_experiment(*paths))  # option variants of a method compared apart
    metadata = {Path(str(p).rstrip("/")).name: experiment_metadata(str(p)) for p in paths}
    candidates = methods_run_both_ways(tidy)
    if method is not None:
        chosen_variants = [name for name in variants_of(tidy, method) if name in candidates]
        if not chosen_variants:
            raise ValueError(f"{method} was not run both fixed and adaptive here; methods run both ways: {candidates or 'none'}")
        candidates = chosen_variants
    if not candidates:
        found = tidy.groupby("config/method")["config/weighting"].agg(lambda s: sorted(set(s))).to_dict()
        raise ValueError(f"no method was run both fixed and adaptive in these experiments (modes per method: {found})")
    chosen = _metrics(tidy, metrics)
    if not chosen:
        raise ValueError("none of the compared metrics has values in these experiments")

    primary = chosen[0]
    results = {name: compare_fixed_adaptive(tidy[tidy["config/method"] == name], primary, method=name) for name in candidates}
    calibrations = {name: _calibration(tidy[tidy["config/method"] == name], results[name]["weight"]) for name in candidates}

    report = Report("Fixed vs adaptive weighting")
    report.verdict(f"Is adaptive weighting less sensitive to the starting weight? ({label_of(primary)})",
                   [comparison_verdict(results[name], calibrations[name] if isinstance(calibrations[name], dict) else None)
                    for name in candidates])
    report.text(
        "Does the adaptive controller (seed 002: the driven weight follows the discriminator's accuracy) make a method "
        "less sensitive to its starting weight than fixing the weight? Each method below was run both ways from the "
        "same starting weights and seeds; the figures are at each trial's final epoch. A spread ratio below 1 means the "
        "final metric moves less with the starting weight under adaptive weighting."
    )
    for name in candidates:
        _method_section(report, tidy[tidy["config/method"] == name], name, chosen, results[name], calibrations[name])
    add_overview(report, tidy, metadata)
    report.heading("What the quantities mean")
    report.definitions(DEFINITIONS)
    return report.write(out)


def _calibration(rows: pd.DataFrame, weight: str) -> dict[str, pd.DataFrame] | str:
    """The controller's calibration (`analysis.calibration`), or why it cannot be made here."""
    try:
        return calibrate(rows, weight)
    except ValueError as error:
        return str(error)


def _method_section(report: Report, rows: pd.DataFrame, method: str, metrics: list[str], result: dict,
                    calibration: dict[str, pd.DataFrame] | str) -> None:
    primary, weight = metrics[0], result["weight"]
    report.heading(f"{method}: {weight} fixed vs adaptive")
    final = final_rows(rows)
    final = final[final["status"] == "finished"]
    report.figure(f"{method}-{primary}-by-start", figures.sensitivity_curves(final, primary, method),
                  caption=f"{method}: final {label_of(primary)} against the starting {weight}, fixed and adaptive")
    report.figure(f"{method}-{weight}-trajectories", figures.weight_trajectories(rows, method, weight),
                  caption=f"{method}: {weight} over epochs; fixed runs are flat lines, adaptive ones move")
    if result.get("tradeoff_x") and len(result["front"]):
        report.figure(f"{method}-tradeoff", figures.tradeoff_scatter(final, result["tradeoff_x"], result["tradeoff_y"], result["front"]),
                      caption=f"{method}: {result['tradeoff_x']} vs {result['tradeoff_y']} per trial, with the joint Pareto front")
    better = "higher" if result["mode"] == "max" else "lower"
    report.text(
        f"Primary metric {label_of(primary)} ({better} is better). Adaptive {weight} convergence ratio "
        f"{result['convergence_ratio_adaptive']:.3g} (0: all starts end at one value; 1: they stay apart)."
    )
    _controller_section(report, method, calibration)
    report.table(f"{method}-counts", result["counts"].drop(columns=["start_values", "seed_values"], errors="ignore"), caption="trials analysed per mode")
    report.table(f"{method}-{primary}-per-start", result["per_start"], caption=f"final {primary} per starting {weight} (over seeds)")
    report.table(f"{method}-{primary}-spread", result["spread"], caption=f"spread of the final {primary} across starting weights")
    report.table(f"{method}-{primary}-tests", result["equal_spread_tests"], caption="tests of equal spread against fixed weighting")
    report.table(f"{method}-{primary}-level", result["level"],
                 caption=f"level: each controlled mode's final {primary} (all starts) against the best fixed start and all fixed trials (Welch)")
    report.table(f"{method}-convergence", result["convergence"], caption=f"does the adaptive {weight} forget its start?")
    if result.get("tradeoff_x") and len(result["front"]):
        report.table(f"{method}-tradeoff", result["tradeoff"], caption="each mode's share of the joint Pareto front and its hypervolume")

    others = []
    for metric in metrics[1:]:
        try:
            with warnings.catch_warnings():  # a metric constant over trials makes scipy's test statistic 0/0: reported as NaN
                warnings.simplefilter("ignore", RuntimeWarning)
                extra = compare_fixed_adaptive(rows, metric, method=method, tradeoff=None, resamples=1000)
        except ValueError as error:
            others.append({"metric": metric, "note": str(error)})
            continue
        others.append(
            {
                "metric": metric,
                "better": "higher" if metric_mode(metric) == "max" else "lower",
                "spread_ratio": extra["spread_ratio"],
                "ci_low": extra["spread_ratio_ci_low"],
                "ci_high": extra["spread_ratio_ci_high"],
                "brown_forsythe_p": extra["brown_forsythe_p"],
            }
        )
    if others:
        report.table(f"{method}-other-metrics", pd.DataFrame(others), caption="the same comparison for the other metrics (adaptive / fixed spread across starts)")


def _controller_section(report: Report, method: str, calibration: dict[str, pd.DataFrame] | str) -> None:
    """Could the controller act here? Accuracy reached per fixed weight, its band, time in band."""
    if isinstance(calibration, str):
        report.text(f"Calibration of the controller: not possible here ({calibration}).")
        return
    bands = "; ".join(f"band {r.band}: {r.reachable}" for r in calibration["bands"].itertuples())
    in_band = calibration.get("in_band")
    share = ("".join(f" {mode.capitalize()} trials spent {rows['in_band_mean'].min():.0%}-{rows['in_band_mean'].max():.0%} of their "
                     "steps inside the band (mean per starting weight)." for mode, rows in in_band.groupby("weighting", sort=False))
             if in_band is not None else " These trials do not report their time in band (made before it was measured).")
    report.text(f"Could the controller act? Discriminator accuracy over the second half of the fixed runs spans "
                f"{calibration['bands']['accuracy_range'].iloc[0]}; {bands}.{share}")
    report.table(f"{method}-calibration", calibration["accuracy"], caption="discriminator accuracy reached at each fixed weight (late epochs, over seeds)")
    if in_band is not None:
        report.table(f"{method}-time-in-band", in_band, caption="share of steps with the discriminator's accuracy inside the controller's band")
