"""Could the adaptive controller act? Discriminator accuracy per fixed weight, and time in band.

The seed-002 controller raises the weight while the discriminator's accuracy is above its band and
lowers it while below; it settles only at a weight whose accuracy lies inside the band. Fixed-weight
trials measure which accuracies the weights reach (`accuracy_by_weight`); a band no swept weight
reaches (`reachable_bands`) leaves the controller a steady drift towards one end of the range,
whatever its start, and a fixed-vs-adaptive comparison there tests the drift, not the feedback.
Each adaptive trial reports the share of its steps spent inside its band
(`controller/in_band/<weight>`); `time_in_band` collects it per starting weight.

Accuracy of a trial = the mean of its per-epoch `disc_acc/<name>` over the second half of its
epochs (a fresh discriminator starts at chance; what the controller meets later is what counts).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trainables.weighting import ControllerSettings

from .tidy import final_rows
from .variants import BASE_NAME, label_option_variants, variants_of


def _accuracy_column(frame: pd.DataFrame) -> str:
    columns = [c for c in frame.columns if c.startswith("disc_acc/") and frame[c].notna().any()]
    if len(columns) != 1:
        raise ValueError(f"expected one discriminator accuracy (disc_acc/<name>) in these trials, found {columns or 'none'}")
    return columns[0]


def late_accuracy(frame: pd.DataFrame) -> pd.Series:
    """Per trial: mean discriminator accuracy over the second half of its epochs."""
    column = _accuracy_column(frame)

    def second_half(rows: pd.DataFrame) -> float:
        rows = rows.sort_values("epoch")
        return float(rows[column].iloc[len(rows) // 2 :].mean())

    return frame.groupby("trial_id")[["epoch", column]].apply(second_half)


def accuracy_by_weight(frame: pd.DataFrame, weight: str) -> pd.DataFrame:
    """Fixed-weight trials of one method: late accuracy per weight value (mean, min, max over seeds)."""
    fixed = frame[frame["config/weighting"] == "fixed"]
    if fixed.empty:
        raise ValueError("calibration needs fixed-weight trials of the method")
    column = f"config/weights/{weight}"
    per_trial = late_accuracy(fixed).rename("accuracy").to_frame()
    per_trial[weight] = final_rows(fixed).set_index("trial_id")[column]
    table = per_trial.groupby(weight)["accuracy"].agg(["mean", "min", "max", "count"]).reset_index()
    return table.rename(columns={"mean": "accuracy_mean", "min": "accuracy_min", "max": "accuracy_max", "count": "seeds"})


def _bands(frame: pd.DataFrame) -> list[tuple[float, float, str]]:
    """The adaptive trials' bands (from their controller settings), or the default band without any."""
    adaptive = final_rows(frame[frame["config/weighting"] == "adaptive"])
    defaults = ControllerSettings()
    bands = set()
    for _, row in adaptive.iterrows():
        given = {key: row.get(f"config/controller/{key}", np.nan) for key in ("target", "window", "lower_below", "raise_above")}
        given = {key: value for key, value in given.items() if pd.notna(value)}  # a setting the trial did not record: the default
        settings = ControllerSettings(target=float(given.get("target", defaults.target)), window=float(given.get("window", defaults.window)),
                                      lower_below=given.get("lower_below"), raise_above=given.get("raise_above"))
        low, high = settings.band(settings.target)
        bands.add((round(low, 6), round(high, 6)))
    if not bands:
        low, high = defaults.band(defaults.target)
        bands.add((round(low, 6), round(high, 6)))
    return [(low, high, f"{low:g}-{high:g}") for low, high in sorted(bands)]


def reachable_bands(calibration: pd.DataFrame, bands: list[tuple[float, float, str]]) -> pd.DataFrame:
    """For each band: is it reached at some swept weight (seed-mean late accuracy inside it), or
    between two (the accuracies straddle it), or not at all (all above or all below)?"""
    accuracies = calibration["accuracy_mean"].to_numpy()
    rows = []
    for low, high, label in bands:
        inside = calibration[(calibration["accuracy_mean"] >= low) & (calibration["accuracy_mean"] <= high)]
        weight_name = calibration.columns[0]
        if len(inside):
            verdict = f"reached at {weight_name} = " + ", ".join(f"{w:.3g}" for w in inside[weight_name])
        elif accuracies.min() < low and accuracies.max() > high:
            verdict = "between swept weights (accuracies straddle the band)"
        elif accuracies.max() < low:
            verdict = "not reached: every swept weight stays below (from these starts the controller lowers the weight; the band may lie beyond the swept range)"
        else:
            verdict = "not reached: every swept weight stays above (from these starts the controller raises the weight; the band may lie beyond the swept range)"
        rows.append({"band": label, "accuracy_range": f"{accuracies.min():.3f}-{accuracies.max():.3f}", "reachable": verdict})
    return pd.DataFrame(rows)


def time_in_band(frame: pd.DataFrame, weight: str) -> pd.DataFrame:
    """Adaptive (and annealed) trials: share of steps inside the band per starting weight (mean over
    epochs per trial; mean, min and max over seeds)."""
    column = f"controller/in_band/{weight}"
    controlled = frame[frame["config/weighting"].isin(["adaptive", "annealed"])]
    if column not in frame.columns or controlled[column].isna().all():
        raise ValueError(f"these adaptive trials do not report {column} (runs made before it existed)")
    per_trial = controlled.groupby("trial_id")[column].mean().rename("in_band").to_frame()
    final = final_rows(controlled).set_index("trial_id")
    per_trial["weighting"] = final["config/weighting"]
    per_trial[weight] = final[f"config/weights/{weight}"]
    table = per_trial.groupby(["weighting", weight])["in_band"].agg(["mean", "min", "max", "count"]).reset_index()
    return table.rename(columns={"mean": "in_band_mean", "min": "in_band_min", "max": "in_band_max", "count": "seeds"})


def calibrate(frame: pd.DataFrame, weight: str, bands: list[tuple[float, float]] | None = None) -> dict[str, pd.DataFrame]:
    """Everything above for one method's trials: accuracy per fixed weight, reachable bands (the given
    ones, else those of the adaptive trials, else the default band), time in band."""
    calibration = accuracy_by_weight(frame, weight)
    chosen = [(low, high, f"{low:g}-{high:g}") for low, high in bands] if bands else _bands(frame)
    result = {"accuracy": calibration, "bands": reachable_bands(calibration, chosen)}
    try:
        result["in_band"] = time_in_band(frame, weight)
    except ValueError:
        pass
    return result


def calibrate_methods(tidy: pd.DataFrame, method: str | None = None,
                      bands: list[tuple[float, float]] | None = None) -> dict[str, tuple[str, dict[str, pd.DataFrame]]]:
    """`calibrate` for each method of the experiments that has an adaptive weight (or the one named),
    each option variant apart (`analysis.variants`): {method label: (weight, tables)}."""
    from trainables.methods import METHODS  # torch, only for this command

    labelled = label_option_variants(tidy)
    bases = labelled.groupby("config/method")[BASE_NAME].first()
    adaptive = {label: base for label, base in bases.items() if METHODS.get(base) is not None and METHODS[base].adaptive}
    chosen = variants_of(labelled, method) if method else sorted(adaptive)
    if not chosen or any(label not in adaptive for label in chosen):
        raise ValueError(f"no method with an adaptive weight to calibrate (methods with one here: {sorted(adaptive) or 'none'})")
    result = {}
    for label in chosen:
        weight = next(iter(METHODS[adaptive[label]].adaptive))
        result[label] = (weight, calibrate(labelled[labelled["config/method"] == label], weight, bands))
    return result
