import json

import pytest

from analysis import final_rows, load_experiment, summarize
from analysis.tidy import ExperimentError


def write_trial(root, name, config, rows, error=False):
    trial = root / name
    trial.mkdir()
    (trial / "params.json").write_text(json.dumps(config))
    (trial / "result.json").write_text("".join(json.dumps({**r, "trial_id": name, "config": config}) + "\n" for r in rows))
    if error:
        (trial / "error.txt").write_text("RuntimeError: boom")


def config(gamma, seed, weighting="fixed"):
    return {"method": "factor_vae", "weighting": weighting, "weights": {"gamma": gamma}, "seed": seed, "epochs": 2}


def write_tune_state(root, statuses):
    """Tune's experiment_state JSON: per trial, its serialised metadata (directory and status) and runtime."""
    trial_data = [[json.dumps({"relative_logdir": name, "status": status}), json.dumps({})] for name, status in statuses.items()]
    (root / "experiment_state-2026-01-01_00-00-00.json").write_text(json.dumps({"trial_data": trial_data, "runner_data": {}}))


def test_tidy_table_rows_columns_and_statuses(tmp_path):
    write_trial(tmp_path, "a", config(1.0, 0), [{"training_iteration": 1, "mig": 0.1, "recon_bce": 30.0}, {"training_iteration": 2, "mig": 0.2, "recon_bce": 20.0}])
    write_trial(tmp_path, "b", config(1.0, 1), [{"training_iteration": 1, "mig": 0.3, "recon_bce": 40.0}])  # stopped by the scheduler
    write_trial(tmp_path, "f", config(1.0, 2), [{"training_iteration": 1, "mig": 0.3, "recon_bce": 40.0}])  # still running when saved
    write_trial(tmp_path, "c", config(9.0, 0), [{"training_iteration": 1, "mig": 0.0, "recon_bce": 50.0}], error=True)
    write_trial(tmp_path, "d", config(9.0, 1), [{"training_iteration": 1, "mig": 0.0, "recon_bce": float("nan"), "diverged": True}])
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "params.json").write_text("{not json")  # damaged: reported and skipped
    write_tune_state(tmp_path, {"a": "TERMINATED", "b": "TERMINATED", "c": "ERROR", "d": "TERMINATED", "f": "RUNNING"})

    tidy = load_experiment(tmp_path)
    assert len(tidy) == 6
    assert {"experiment", "trial_id", "status", "epoch", "config/weights/gamma", "config/seed", "config/method", "mig", "recon_bce"} <= set(tidy.columns)
    status = final_rows(tidy).set_index("trial_id")["status"].to_dict()
    assert status == {"a": "finished", "b": "early_stopped", "c": "error", "d": "diverged", "f": "unfinished"}
    assert [path.rsplit("/", 1)[-1] for path, _ in tidy.attrs["skipped"]] == ["e"]
    assert final_rows(tidy).set_index("trial_id").loc["c", "error"] == "RuntimeError: boom"

    table = summarize(tidy)
    row = table[(table["gamma"] == 1.0)].iloc[0]
    assert row["trials"] == 3 and row["mig mean"] == pytest.approx(0.8 / 3)  # last epochs: 0.2, 0.3 and 0.3


def test_without_tune_state_a_short_trial_is_unfinished_and_uris_load(tmp_path):
    write_trial(tmp_path, "b", config(1.0, 1), [{"training_iteration": 1, "mig": 0.3}])
    assert load_experiment(tmp_path)["status"].tolist() == ["unfinished"]
    from_uri = load_experiment(f"file://{tmp_path}")  # a storage URI, through pyarrow's file systems
    assert from_uri["mig"].tolist() == [0.3] and from_uri["experiment"].tolist() == [tmp_path.name]
    two = load_experiment(tmp_path, f"file://{tmp_path}")
    assert len(two) == 2


def test_not_an_experiment(tmp_path):
    with pytest.raises(ExperimentError, match="no trial directories"):
        load_experiment(tmp_path)
    with pytest.raises(ExperimentError, match="no experiment directory"):
        load_experiment(tmp_path / "absent")
    with pytest.raises(ExperimentError, match="storage URI"):
        load_experiment("nosuchscheme://bucket/experiment")


class _Trap:
    """Unpickling this creates a file: proof that something read a pickle."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_loading_never_unpickles_files_from_a_results_path(tmp_path):
    import pickle

    marker = tmp_path.parent / f"{tmp_path.name}-unpickled"
    write_trial(tmp_path, "a", config(1.0, 0), [{"training_iteration": 2, "mig": 0.1}])
    for name in ("tuner.pkl", "searcher-state-2026.pkl", "a/checkpoint.pkl"):
        (tmp_path / name).write_bytes(pickle.dumps(_Trap(marker)))
    tidy = load_experiment(tmp_path)
    assert tidy["mig"].tolist() == [0.1]
    assert not marker.exists()


def test_epochs_reported_again_after_a_restore_count_once(tmp_path):
    rows = [{"training_iteration": 1, "mig": 0.1}, {"training_iteration": 2, "mig": 0.2},
            {"training_iteration": 2, "mig": 0.25}, {"training_iteration": 3, "mig": 0.3}]  # crashed after 2, restored from 1... then 2 again
    write_trial(tmp_path, "a", {**config(1.0, 0), "epochs": 3}, rows)
    tidy = load_experiment(tmp_path)
    assert tidy["epoch"].tolist() == [1, 2, 3] and tidy["mig"].tolist() == [0.1, 0.25, 0.3]


def test_summary_intervals_and_which_rows_are_within_seed_noise(tmp_path):
    from scipy import stats

    from analysis.summary import noise_note

    migs = {1.0: [0.10, 0.12, 0.11], 3.0: [0.40, 0.42, 0.44], 9.0: [0.05, 0.60, 0.30], 27.0: [0.2, 0.2, 0.2]}
    for gamma, values in migs.items():
        for seed, value in enumerate(values):
            write_trial(tmp_path, f"g{gamma}s{seed}", config(gamma, seed), [{"training_iteration": 1, "mig": value, "recon_bce": 10 * gamma}])
    table = summarize(load_experiment(tmp_path)).set_index("gamma")
    low, high = stats.t.interval(0.95, 2, loc=0.42, scale=stats.sem([0.40, 0.42, 0.44]))
    assert table.loc[3.0, "mig low"] == pytest.approx(low) and table.loc[3.0, "mig high"] == pytest.approx(high)
    assert (table["mig low"] <= table["mig mean"]).all() and (table["mig mean"] <= table["mig high"]).all()
    assert table.loc[27.0, "mig low"] == pytest.approx(0.2) and table.loc[27.0, "mig high"] == pytest.approx(0.2)  # no spread: a point, not NaN
    lines = noise_note(summarize(load_experiment(tmp_path)))
    # best MIG is gamma 3 (0.42 +- 0.05); gamma 9's wide interval overlaps it, gamma 1's and 27's do not
    assert lines[0].startswith("mig: best (max) factor_vae fixed 3") and "1 of 3 other rows within seed noise" in lines[0]
    assert lines[1].startswith("recon_bce: best (min) factor_vae fixed 1")


def test_summary_keeps_entries_with_different_options_apart_and_leads_with_the_specs_metric(tmp_path):
    from analysis.summary import headline_metrics

    # two entries of one method and weight, differing only in an option: two rows, never one pooled mean
    for noise, accuracies in {0.0: [0.40, 0.46], 0.3: [0.70, 0.74]}.items():
        for seed, accuracy in enumerate(accuracies):
            # the noise-free entry leaves the option out: its row shows aae's default, 0.0; a list value is a key too
            options = {"clusters": 16, "disc_noise": noise, "conv_widths": [32, 64]} if noise else {"clusters": 16}
            cfg = config(1.0, seed) | {"method": "aae", "options": options}
            write_trial(tmp_path, f"n{noise}s{seed}", cfg, [{"training_iteration": 1, "cluster_acc": accuracy, "mig": 0.1}])
    assert headline_metrics("cluster_acc") == ("cluster_acc", "mig", "recon_bce") and headline_metrics("mig") == headline_metrics("recon_bce") == ("mig", "recon_bce")
    table = summarize(load_experiment(tmp_path), headline_metrics("cluster_acc")).set_index("options/disc_noise")
    assert "options/clusters" not in table.columns  # the same in every trial: not a row label
    assert table.loc[0.0, "trials"] == 2 and table.loc[0.3, "cluster_acc mean"] == pytest.approx(0.72)
    assert table.loc[0.0, "cluster_acc mean"] == pytest.approx(0.43) and table.loc[0.3, "options/conv_widths"] == "[32, 64]"


def test_summary_intervals_stay_inside_the_metrics_range(tmp_path):
    # two seeds far apart: the raw t interval of the accuracy runs from about -3.0 to +4.2
    for seed, accuracy in enumerate([0.21, 0.99]):
        write_trial(tmp_path, f"s{seed}", config(1.0, seed), [{"training_iteration": 1, "cluster_acc": accuracy, "recon_bce": 5.0 + 100 * seed}])
    row = summarize(load_experiment(tmp_path), ("cluster_acc", "recon_bce")).iloc[0]
    assert (row["cluster_acc low"], row["cluster_acc high"]) == (0.0, 1.0)
    assert row["recon_bce low"] == 0.0 and row["recon_bce high"] > 55.0  # a non-negative error: cut below only


def test_a_metric_no_trial_reported_gets_no_columns_and_a_line_saying_so(tmp_path):
    # MNIST has no known factors: MIG is NaN in every row and the summary says so instead of empty columns
    from analysis.summary import noise_note

    for seed, accuracy in enumerate([0.61, 0.65]):
        write_trial(tmp_path, f"s{seed}", config(1.0, seed), [{"training_iteration": 1, "cluster_acc": accuracy, "mig": float("nan"), "recon_bce": 90.0}])
    table = summarize(load_experiment(tmp_path), ("cluster_acc", "mig", "recon_bce"))
    assert "mig mean" not in table.columns and table.iloc[0]["cluster_acc mean"] == pytest.approx(0.63)
    lines = noise_note(table)
    assert lines[0].startswith("mig: no trial reported it") and not any("no row has two finite seeds" in line for line in lines)

    # no metric at all (a trial that diverged before its first evaluation): rows with counts, every metric named
    write_trial(tmp_path, "s9", config(3.0, 0), [{"training_iteration": 1, "cluster_acc": float("nan"), "mig": float("nan"), "recon_bce": float("nan")}])
    empty = summarize(load_experiment(tmp_path).query("trial_id == 's9'"), ("mig", "recon_bce"))
    assert list(empty.columns) == ["method", "weighting", "gamma", "trials", "statuses"] and empty.attrs["unreported"] == ["mig", "recon_bce"]
