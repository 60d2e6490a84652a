"""Learning curves (`study curves`): which runs still improve, read from the tidy table, and the figure's lines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.learning_curves import curve_summary, curve_table, learning_curves_figure
from study.cli import main


def _tidy(rows: dict[str, list[float]], metric: str = "cluster_acc", eval_every: int = 5) -> pd.DataFrame:
    """One trial per entry of rows, evaluated every `eval_every` epochs; the epochs between carry no metric."""
    records = []
    for index, (method, values) in enumerate(rows.items()):
        for epoch in range(1, eval_every * len(values) + 1):
            value = values[epoch // eval_every - 1] if epoch % eval_every == 0 else np.nan
            records.append({"experiment": "e", "trial_id": f"t{index}", "status": "TERMINATED", "epoch": epoch,
                            "config/method": method, "config/weighting": "fixed", "config/seed": 0,
                            "config/weights/beta": 1.0, "config/dataset": "mnist", metric: value})
    return pd.DataFrame.from_records(records)


def test_summary_tells_a_rising_run_from_a_falling_one() -> None:
    tidy = _tidy({"imae": [0.50, 0.55, 0.60, 0.70], "joint_vae": [0.40, 0.35, 0.33, 0.30]})
    curves = curve_table(tidy, ["cluster_acc"])
    assert len(curves) == 8 and set(curves["epoch"]) == {5, 10, 15, 20}  # only evaluated epochs
    summary = curve_summary(curves).set_index("run")
    # last quarter of 5..20 starts after epoch 16.25: the reference is the value at epoch 15
    assert summary.loc["imae", "gain over last quarter"] == pytest.approx(0.10)
    assert summary.loc["joint_vae", "gain over last quarter"] == pytest.approx(-0.03)
    assert summary.loc["joint_vae", "best"] == pytest.approx(0.40) and summary.loc["joint_vae", "best epoch"] == 5
    assert summary.loc["imae", "last"] == pytest.approx(0.70) and summary.loc["imae", "last epoch"] == 20


def test_a_metric_to_minimise_improves_when_it_falls() -> None:
    tidy = _tidy({"aae": [120.0, 100.0, 90.0]}, metric="recon_bce")
    summary = curve_summary(curve_table(tidy, ["recon_bce"])).iloc[0]
    assert summary["best"] == pytest.approx(90.0) and summary["best epoch"] == 15
    assert summary["gain over last quarter"] == pytest.approx(10.0)


def test_labels_name_what_differs_between_runs() -> None:
    tidy = pd.concat([_tidy({"imae": [0.5, 0.6]}), _tidy({"imae": [0.4, 0.5]}).assign(**{"trial_id": "u0", "config/dataset": "fashion_mnist"})])
    runs = set(curve_table(tidy, ["cluster_acc"])["run"])
    assert runs == {"imae mnist", "imae fashion_mnist"}


def test_runs_are_listed_by_the_value_of_what_differs_not_its_text() -> None:
    tidy = pd.concat([_tidy({"imae": [0.5, 0.6]}).assign(trial_id=f"t{w}", **{"config/options/tc_weight": float(w)}) for w in (16, 4, 1, 0)])
    curves = curve_table(tidy, ["cluster_acc"])
    expected = ["imae tc_weight=0", "imae tc_weight=1", "imae tc_weight=4", "imae tc_weight=16"]
    assert list(dict.fromkeys(curves["run"])) == expected
    assert list(curve_summary(curves)["run"]) == expected
    legend = learning_curves_figure(curves).axes[0].get_legend()
    assert [text.get_text() for text in legend.get_texts()] == expected


def test_the_figure_draws_each_run_through_its_values() -> None:
    tidy = _tidy({"imae": [0.5, 0.6, 0.7], "aae": [0.2, 0.4, 0.9]})
    figure = learning_curves_figure(curve_table(tidy, ["cluster_acc"]), {"cluster_acc": 0.9})
    lines = {tuple(np.round(line.get_ydata(), 6)) for line in figure.axes[0].get_lines()}
    assert (0.5, 0.6, 0.7) in lines and (0.2, 0.4, 0.9) in lines and (0.9, 0.9) in lines  # two runs and the target


def test_cli_writes_figure_and_table_and_names_bad_input(tmp_path, capsys) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    _tidy({"imae": [0.5, 0.6, 0.7]}).drop(columns="experiment").to_csv(folder / "tidy.csv", index=False)
    assert main(["curves", str(folder), "--target", "cluster_acc=0.9"]) == 0
    assert (folder / "curves.png").stat().st_size > 0
    table = pd.read_csv(folder / "curves.csv")
    assert table.loc[0, "last"] == pytest.approx(0.7)
    assert main(["curves", str(folder), "--metric", "mig"]) == 2
    assert "no values of ['mig']" in capsys.readouterr().err
    assert main(["curves", str(folder), "--out", str(tmp_path / "curves.txt")]) == 2
    with pytest.raises(SystemExit):
        main(["curves", str(folder), "--target", "cluster_acc"])
