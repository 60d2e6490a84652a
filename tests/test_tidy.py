import json

import pytest

from analysis import final_rows, load_experiment, summarize


def write_trial(root, name, config, rows, error=False):
    trial = root / name
    trial.mkdir()
    (trial / "params.json").write_text(json.dumps(config))
    (trial / "result.json").write_text("".join(json.dumps({**r, "trial_id": name, "config": config}) + "\n" for r in rows))
    if error:
        (trial / "error.txt").write_text("RuntimeError: boom")


def config(gamma, seed, weighting="fixed"):
    return {"method": "factor_vae", "weighting": weighting, "weights": {"gamma": gamma}, "seed": seed, "epochs": 2}


def test_tidy_table_rows_columns_and_statuses(tmp_path):
    write_trial(tmp_path, "a", config(1.0, 0), [{"training_iteration": 1, "mig": 0.1, "recon_bce": 30.0}, {"training_iteration": 2, "mig": 0.2, "recon_bce": 20.0}])
    write_trial(tmp_path, "b", config(1.0, 1), [{"training_iteration": 1, "mig": 0.3, "recon_bce": 40.0}])  # stopped early
    write_trial(tmp_path, "c", config(9.0, 0), [{"training_iteration": 1, "mig": 0.0, "recon_bce": 50.0}], error=True)
    write_trial(tmp_path, "d", config(9.0, 1), [{"training_iteration": 1, "mig": 0.0, "recon_bce": float("nan"), "diverged": True}])
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "params.json").write_text("{not json")  # damaged: reported and skipped

    tidy = load_experiment(tmp_path)
    assert len(tidy) == 5
    assert {"trial_id", "status", "epoch", "config/weights/gamma", "config/seed", "config/method", "mig", "recon_bce"} <= set(tidy.columns)
    status = final_rows(tidy).set_index("trial_id")["status"].to_dict()
    assert status == {"a": "finished", "b": "stopped", "c": "error", "d": "diverged"}

    table = summarize(tidy)
    row = table[(table["gamma"] == 1.0)].iloc[0]
    assert row["trials"] == 2 and row["mig mean"] == pytest.approx(0.25)  # last epochs: 0.2 and 0.3


def test_not_an_experiment(tmp_path):
    with pytest.raises(ValueError, match="no trial directories"):
        load_experiment(tmp_path)
    with pytest.raises(FileNotFoundError):
        load_experiment(tmp_path / "absent")
