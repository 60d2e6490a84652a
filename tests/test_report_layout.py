"""Reports open with the answer: rendered by headless chromium at 1280 px, the first screen holds the
verdict box, nothing is wider than the window, and the screenshot of the first screen shows the box.

Built from the results shipped in results/ (tidy tables, no Ray), so these run in seconds.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from analysis.compare_report import build_comparison
from analysis.study_report import build_report

RESULTS = Path(__file__).resolve().parent.parent / "results"
WIDTH, HEIGHT = 1280, 900
VERDICT_GREEN = (0xE3, 0xF1, 0xE5)  # section.verdict's background in analysis/report.py
PROBE = (
    "<script>window.addEventListener('load', () => {"
    "const box = document.querySelector('section.verdict');"
    "const r = box ? box.getBoundingClientRect() : {top: -1, bottom: -1};"
    "const first = document.querySelector('section.verdict, h2, table, figure');"
    "const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth).length;"
    "document.body.setAttribute('data-probe', `box ${Math.round(r.top)} ${Math.round(r.bottom)} first ${first ? first.tagName + '.' + first.className : ''}"
    " screen ${window.innerWidth} ${window.innerHeight} scroll ${document.documentElement.scrollWidth} wide ${wide}`);"
    "});</script></body>"
)


def _chromium() -> str:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "chromium is needed (.ci/run installs Debian's chromium)"
    return browser


def render(page: Path, tmp_path: Path) -> tuple[dict, np.ndarray]:
    """The probe's layout figures for `page` at WIDTH x HEIGHT, and the first screen as RGB pixels."""
    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text().replace("</body>", PROBE))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000", f"--window-size={WIDTH},{HEIGHT}"]
    dom = subprocess.run([_chromium(), *flags, "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120).stdout
    found = re.search(r'data-probe="box (-?\d+) (-?\d+) first (\S*) screen (\d+) (\d+) scroll (\d+) wide (\d+)"', dom)
    assert found, dom[-2000:]
    top, bottom, first, width, height, scroll, wide = found.groups()
    layout = {"top": int(top), "bottom": int(bottom), "first": first, "width": int(width), "height": int(height), "scroll": int(scroll), "wide": int(wide)}
    shot = tmp_path / "first-screen.png"
    subprocess.run([_chromium(), *flags, f"--screenshot={shot}", probe.as_uri()], capture_output=True, timeout=120)
    return layout, np.asarray(Image.open(shot).convert("RGB"))


def assert_answer_first(layout: dict, pixels: np.ndarray) -> None:
    assert layout["first"] == "SECTION.verdict", layout  # nothing (no table, no figure, no heading) comes before the answer
    assert 0 <= layout["top"] < layout["bottom"] <= layout["height"], layout  # the whole box on the first screen
    assert layout["scroll"] <= layout["width"] and layout["wide"] == 0, layout  # nothing scrolls sideways
    green = (np.abs(pixels.astype(int) - VERDICT_GREEN).sum(axis=2) <= 6).mean()
    assert green > 0.05, f"the verdict box covers {green:.1%} of the first screen's pixels"


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    study = build_report([str(RESULTS / "quickstart")], out / "report", metrics=["mig", "recon_bce"])
    compare = build_comparison([str(RESULTS / "factor_vae-fixed-vs-adaptive")], out / "compare")
    return study, compare


def test_study_report_opens_with_its_verdict(reports, tmp_path):
    study, _ = reports
    assert study["verdicts"] and all("gamma" in line and ("effect" in line or "no permutation test" in line) for line in study["verdicts"])
    markdown = study["markdown"].read_text()
    assert markdown.index(study["verdicts"][0]) < markdown.index("## Sensitivity at a glance") < markdown.index("## What the indices mean")
    assert_answer_first(*render(study["html"], tmp_path))


def test_compare_report_opens_with_its_verdict(reports, tmp_path):
    _, compare = reports
    assert len(compare["verdicts"]) == 1 and "adaptive / fixed" in compare["verdicts"][0]
    assert re.search(r"= [\d.]+ \[[\d.]+, [\d.]+\] \(95% BCa\)", compare["verdicts"][0])
    # the shipped study is the short-budget negative control: its verdict says the controller could not act
    assert "never reached the controller's band (0.7-0.8)" in compare["verdicts"][0]
    assert_answer_first(*render(compare["html"], tmp_path))


def test_tables_show_readable_headers_and_keep_short_names_in_csv(reports):
    study, _ = reports
    page = study["html"].read_text()
    assert "<th>weight's share of variance</th>" in page and "<th>weight_share</th>" not in page
    assert "weight_share" in (study["tables"] / "headline.csv").read_text().splitlines()[0]


def test_report_commands_print_the_verdict(tmp_path, capsys):
    from study.cli import main

    assert main(["compare", str(RESULTS / "factor_vae-fixed-vs-adaptive"), "--out", str(tmp_path / "compare")]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("answer:\n- factor_vae, gamma: spread of the final MIG across starting weights, adaptive / fixed = ")
    assert "report: " in printed


def test_comparison_verdict_follows_the_interval_and_the_calibration():
    import pandas as pd

    from analysis.verdicts import comparison_verdict

    result = {"method": "factor_vae", "weight": "gamma", "metric": "mig", "spread_ratio": 0.4, "spread_ratio_ci_low": 0.2,
              "spread_ratio_ci_high": 0.7, "brown_forsythe_p": 0.01}
    reachable = {"bands": pd.DataFrame({"band": ["0.7-0.8"], "accuracy_range": ["0.6-0.9"], "reachable": ["reached at gamma = 2"]}),
                 "in_band": pd.DataFrame({"weighting": ["adaptive", "adaptive"], "in_band_mean": [0.3, 0.6]})}
    text = comparison_verdict(result, reachable)
    assert "adaptive is less sensitive" in text and "30%-60% of steps" in text and "Caution" not in text
    assert "adaptive is more sensitive" in comparison_verdict(result | {"spread_ratio": 2.0, "spread_ratio_ci_low": 1.2, "spread_ratio_ci_high": 3.0})
    assert "no detectable difference" in comparison_verdict(result | {"spread_ratio_ci_high": 1.1})
    assert "no conclusion" in comparison_verdict(result | {"spread_ratio_ci_low": float("nan")})
    # a band no swept weight reaches: the controller could only move one way, unless the adaptive trials
    # found the band beyond the swept weights and held it for a good share of their steps
    out_of_reach = {"bands": pd.DataFrame({"band": ["0.7-0.8"], "accuracy_range": ["0.54-0.62"], "reachable": ["not reached: every swept weight stays below"]})}
    never = comparison_verdict(result, out_of_reach | {"in_band": pd.DataFrame({"weighting": ["adaptive"] * 2, "in_band_mean": [0.01, 0.04]})})
    assert "Caution" in never and "could only move the weight one way" in never
    found = comparison_verdict(result, out_of_reach | {"in_band": pd.DataFrame({"weighting": ["adaptive"] * 2, "in_band_mean": [0.4, 0.5]})})
    assert "Caution" not in found and "beyond the swept range" in found and "40%-50% of steps" in found
