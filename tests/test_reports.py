"""Reports end to end on real small experiments made here: one grid with injected failures, one
ASHA sweep with early-stopped trials (slow: starts Ray once for the module)."""

import re
import shutil
import subprocess

import pandas as pd
import pytest
import ray

from analysis import final_rows, load_experiment
from study.cli import main
from study.launch import init_ray, run_study
from study.spec import parse_spec

pytestmark = pytest.mark.slow

SPRITES = {"name": "dsprites", "options": {"resolution": 16, "sizes": {"scale": 2, "orientation": 2, "position_x": 4, "position_y": 4}}, "eval_size": 60}
TINY = {"lr": 0.001, "disc_hidden": 32, "disc_layers": 2}


@pytest.fixture(scope="module")
def experiments(tmp_path_factory):
    storage = tmp_path_factory.mktemp("experiments")
    grid = parse_spec(
        {
            "name": "faulty-grid",
            "dataset": SPRITES,
            "methods": [{"name": "factor_vae", "weighting": ["fixed", "adaptive"], "weights": {"gamma": {"values": [2, 20]}}, "options": TINY, "controller": {"interval": 5}}],
            "seeds": [0, 1, 2],
            "epochs": 3,
            "batch_size": 32,
            "max_failures": 0,
            "max_concurrent": 2,
            "fault_injection": {"raise_at_epoch": 2, "seeds": [2]},  # every seed-2 trial fails for real
        }
    )
    asha = parse_spec(
        {
            "name": "asha",
            "dataset": SPRITES,
            "methods": [{"name": "beta_vae", "weights": {"beta": {"values": [0.5, 1, 2, 4, 8, 16]}}, "options": {"lr": 0.001}}],
            "seeds": [0],
            "epochs": 3,
            "batch_size": 32,
            "max_concurrent": 1,  # one at a time: ASHA's decisions do not depend on timing
            "metric": "recon_bce",
            "scheduler": {"kind": "asha", "grace_period": 1, "reduction_factor": 2},
        }
    )
    init_ray(num_cpus=2)
    try:
        paths = [str(run_study(spec, storage_path=str(storage))[0]) for spec in (grid, asha)]
    finally:
        ray.shutdown()
    return paths


def test_loading_keeps_and_labels_failed_and_early_stopped_trials(experiments):
    final = final_rows(load_experiment(*experiments))
    grid = final[final["experiment"].str.startswith("faulty-grid")]
    assert (grid.loc[grid["config/seed"] == 2, "status"] == "error").all() and len(grid[grid["config/seed"] == 2]) == 4
    assert (grid.loc[grid["config/seed"] != 2, "status"] == "finished").all()
    asha = final[final["experiment"].str.startswith("asha")]
    assert len(asha) == 6 and (asha["status"] == "early_stopped").any() and (asha["status"] == "finished").any()
    assert (asha.loc[asha["status"] == "early_stopped", "epoch"] < 3).all()


def test_report_end_to_end(experiments, tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["report", *experiments, "--out", str(out)]) == 0
    markdown = (out / "report.md").read_text()
    statuses = final_rows(load_experiment(*experiments))["status"].value_counts()
    assert f"18 trials from 2 experiment(s); {statuses['finished']} finished, {statuses['early_stopped']} early stopped, 4 error" in markdown
    headline = pd.read_csv(out / "tables" / "headline.csv")
    assert {"factor_vae", "beta_vae"} == set(headline["method"])
    assert set(headline["weighting"]) == {"fixed", "adaptive"}
    indices = pd.read_csv(out / "tables" / "indices.csv")
    grid_rows = indices[(indices["method"] == "factor_vae") & (indices["index"] == "weight_share")]
    assert grid_rows["value"].dropna().between(0, 1).all() and grid_rows["value"].notna().sum() >= 8
    assert (grid_rows["n_seeds"] == 2).all()  # the failed seed is not a replicate
    asha_budgets = indices.loc[indices["method"] == "beta_vae", "budget"].unique()
    assert list(asha_budgets) == [1]  # every beta_vae trial reached epoch 1, not all reached more
    agreement = pd.read_csv(out / "tables" / "ranking-agreement.csv")
    assert not agreement.empty
    figures = {p.name for p in (out / "figures").iterdir()}
    assert {"factor_vae-mig-curves.png", "metric-correlation.png", "factor_vae-best-reconstructions.png", "factor_vae-worst-traversals.png"} <= figures
    for name in figures:
        assert f"figures/{name}" in markdown


def test_compare_end_to_end(experiments, tmp_path):
    out = tmp_path / "compare"
    assert main(["compare", experiments[0], "--out", str(out), "--metric", "mig"]) == 0
    counts = pd.read_csv(out / "tables" / "factor_vae-counts.csv").set_index("weighting")
    assert counts.loc["fixed", "included"] == 4 and counts.loc["fixed", "excluded_status"] == 2
    tests = pd.read_csv(out / "tables" / "factor_vae-mig-tests.csv")
    assert tests["p_value"].between(0, 1).all()
    assert (out / "figures" / "factor_vae-gamma-trajectories.png").stat().st_size > 0


def test_bad_report_inputs_exit_2(experiments, tmp_path, capsys):
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "r")]) == 2
    assert "holds no trial directories" in capsys.readouterr().err
    assert main(["compare", experiments[1], "--out", str(tmp_path / "c")]) == 2  # beta_vae: fixed only
    assert "no method was run both fixed and adaptive" in capsys.readouterr().err
    assert main(["report", experiments[0], "--metric", "nope", "--out", str(tmp_path / "m")]) == 2
    assert "nope" in capsys.readouterr().err
    assert not (tmp_path / "r").exists() and not (tmp_path / "m").exists()


def test_html_report_renders_in_a_headless_browser(experiments, tmp_path):
    """Debian's chromium opens report.html from disk: every embedded figure decodes, tables render."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "chromium is needed (.ci/run installs Debian's chromium)"
    out = tmp_path / "compare"
    assert main(["compare", experiments[0], "--out", str(out)]) == 0
    page = (out / "report.html").read_text()
    images = page.count("<img")
    assert images >= 3 and "src='figures/" not in page  # self-contained: data URIs only
    probe = tmp_path / "probe.html"
    check = (
        "<script>window.addEventListener('load', () => {"
        "const imgs = [...document.images]; const ok = imgs.filter(i => i.complete && i.naturalWidth > 0).length;"
        "document.body.setAttribute('data-probe', `images ${ok}/${imgs.length} tables ${document.querySelectorAll('table tr').length}`);"
        "});</script></body>"
    )
    probe.write_text(page.replace("</body>", check))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000"]
    dom = subprocess.run([browser, *flags, "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120).stdout
    match = re.search(r'data-probe="images (\d+)/(\d+) tables (\d+)"', dom)
    assert match, dom[-2000:]
    loaded, total, rows = map(int, match.groups())
    assert loaded == total == images and rows > 10
    screenshot = tmp_path / "page.png"
    subprocess.run([browser, *flags, f"--screenshot={screenshot}", "--window-size=1200,2000", probe.as_uri()], capture_output=True, timeout=120)
    assert screenshot.stat().st_size > 20_000  # a rendered page, not a blank one
