"""Could the controller act? Calibration tables on synthetic tidy frames with known accuracies."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.calibration import accuracy_by_weight, calibrate, late_accuracy, reachable_bands, time_in_band

STARTS = (1.0, 10.0, 100.0)


def frame(accuracy_of, in_band_of=lambda start, epoch: 0.0, epochs=4, seeds=(0, 1, 2), controller=None) -> pd.DataFrame:
    rows = []
    for mode in ("fixed", "adaptive"):
        for start in STARTS:
            for seed in seeds:
                for epoch in range(1, epochs + 1):
                    row = {"trial_id": f"{mode}-{start}-{seed}", "status": "finished", "epoch": epoch, "config/method": "factor_vae",
                           "config/weighting": mode, "config/seed": seed, "config/weights/gamma": start,
                           "weight/gamma": start, "disc_acc/tc": accuracy_of(start, seed, epoch), "diverged": False}
                    if mode == "adaptive":
                        row["controller/in_band/gamma"] = in_band_of(start, epoch)
                        row.update({f"config/controller/{k}": v for k, v in (controller or {}).items()})
                    rows.append(row)
    return pd.DataFrame(rows)


def test_late_accuracy_is_the_mean_of_the_second_half_of_the_epochs():
    tidy = frame(lambda start, seed, epoch: 0.5 + 0.1 * epoch)  # 0.6, 0.7, 0.8, 0.9
    assert late_accuracy(tidy[tidy["trial_id"] == "fixed-1.0-0"]).iloc[0] == pytest.approx(0.85)


def test_accuracy_per_weight_and_a_band_reached_at_one_weight():
    # accuracy falls with gamma: 0.9 at 1, 0.75 at 10, 0.6 at 100 (+ a seed offset)
    accuracy = {1.0: 0.9, 10.0: 0.75, 100.0: 0.6}
    tidy = frame(lambda start, seed, epoch: accuracy[start] + 0.01 * (seed - 1))
    table = accuracy_by_weight(tidy, "gamma").set_index("gamma")
    assert table.loc[10.0, "accuracy_mean"] == pytest.approx(0.75)
    assert table.loc[1.0, "accuracy_min"] == pytest.approx(0.89) and table.loc[1.0, "accuracy_max"] == pytest.approx(0.91)
    assert (table["seeds"] == 3).all()
    bands = reachable_bands(accuracy_by_weight(tidy, "gamma"), [(0.7, 0.8, "0.7-0.8"), (0.62, 0.68, "0.62-0.68"), (0.95, 1.0, "0.95-1")])
    verdicts = bands.set_index("band")["reachable"]
    assert verdicts["0.7-0.8"] == "reached at gamma = 10"
    assert verdicts["0.62-0.68"].startswith("between swept weights")
    assert verdicts["0.95-1"].startswith("not reached: every swept weight stays below")


def test_the_last_fixed_vs_adaptive_study_could_not_reach_its_band():
    """The shipped short-budget study: accuracy 0.54-0.67 at every gamma, band 0.70-0.80."""
    tidy = frame(lambda start, seed, epoch: {1.0: 0.60, 10.0: 0.54, 100.0: 0.67}[start], controller={"target": 0.75, "window": 0.05})
    result = calibrate(tidy, "gamma")
    assert result["bands"]["band"].tolist() == ["0.7-0.8"]
    assert result["bands"]["reachable"].iloc[0].startswith("not reached: every swept weight stays below")
    assert result["in_band"]["in_band_mean"].eq(0.0).all()


def test_explicit_thresholds_set_the_band():
    tidy = frame(lambda start, seed, epoch: 0.7, controller={"lower_below": 0.55, "raise_above": 0.9})
    result = calibrate(tidy, "gamma")
    assert result["bands"]["band"].tolist() == ["0.55-0.9"]
    assert result["bands"]["reachable"].iloc[0] == "reached at gamma = 1, 10, 100"


def test_time_in_band_per_start():
    tidy = frame(lambda start, seed, epoch: 0.75, in_band_of=lambda start, epoch: 1.0 if start == 10.0 else 0.25 * epoch)
    table = time_in_band(tidy, "gamma").set_index("gamma")
    assert table.loc[10.0, "in_band_mean"] == 1.0
    assert table.loc[1.0, "in_band_mean"] == pytest.approx(0.625)  # mean of 0.25, 0.5, 0.75, 1.0
    with pytest.raises(ValueError, match="controller/in_band/gamma"):
        time_in_band(tidy.drop(columns=["controller/in_band/gamma"]), "gamma")


def test_study_calibrate_prints_the_tables_and_refuses_a_method_without_a_controller(tmp_path, capsys):
    from study.cli import main

    tidy = frame(lambda start, seed, epoch: {1.0: 0.9, 10.0: 0.75, 100.0: 0.6}[start], controller={"target": 0.75, "window": 0.05})
    tidy["experiment"] = tmp_path.name
    tidy.to_csv(tmp_path / "tidy.csv", index=False)
    assert main(["calibrate", str(tmp_path), "--band", "0.85", "0.95"]) == 0
    out = capsys.readouterr().out
    assert "0.85-0.95" in out and "reached at gamma = 1" in out and "time in band" in out
    assert main(["calibrate", str(tmp_path), "--method", "beta_vae"]) == 2
    assert "no method with an adaptive weight" in capsys.readouterr().err


def test_calibration_keeps_option_variants_apart():
    from analysis.calibration import calibrate_methods

    # the same method with two discriminator widths: one reaches 0.75 at gamma 10, the other stays at 0.55
    wide = frame(lambda start, seed, epoch: {1.0: 0.9, 10.0: 0.75, 100.0: 0.6}[start])
    wide["config/options/disc_hidden"] = 1000
    narrow = frame(lambda start, seed, epoch: 0.55)
    narrow["trial_id"] = "narrow-" + narrow["trial_id"]
    narrow["config/options/disc_hidden"] = 64
    result = calibrate_methods(pd.concat([wide, narrow], ignore_index=True), "factor_vae", [(0.7, 0.8)])
    assert sorted(result) == ["factor_vae[disc_hidden=1000]", "factor_vae[disc_hidden=64]"]
    reached = {label: tables["bands"]["reachable"].iloc[0] for label, (_, tables) in result.items()}
    assert reached["factor_vae[disc_hidden=1000]"] == "reached at gamma = 10"
    assert reached["factor_vae[disc_hidden=64]"].startswith("not reached")
    assert result["factor_vae[disc_hidden=64]"][1]["accuracy"]["seeds"].tolist() == [3, 3, 3]
