"""How loading the tidy table and `study report` scale with the number of trials: 100, 1,000 and
10,000 synthetic trials (Tune's layout: params.json + result.json per trial, 10 epochs each, a
fixed and an adaptive mode over 10 starting weights, seeds as replicates, four metrics), each
size timed in a fresh subprocess so its peak memory is its own. Ratios are against 100 trials.

    python benchmarks/analysis_scale.py --out benchmarks/results/analysis_scale.txt
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SIZES = (100, 1_000, 10_000)
EPOCHS = 10
METRICS = ("mig", "recon_bce", "dci_disentanglement", "factor_vae_score")


def write_experiment(folder: Path, trials: int, seed: int = 0) -> None:
    """Trials spread over 2 modes x 10 starting weights; metric = smooth response + seed noise."""
    rng = np.random.default_rng(seed)
    starts = np.geomspace(1, 100, 10)
    for i in range(trials):
        mode, start, trial_seed = ("fixed", "adaptive")[i % 2], starts[(i // 2) % 10], i // 20
        trial = folder / f"StudyTrainable_{i:06d}"
        trial.mkdir(parents=True)
        config = {"method": "factor_vae", "weighting": mode, "weights": {"gamma": float(start)}, "seed": int(trial_seed), "epochs": EPOCHS}
        (trial / "params.json").write_text(json.dumps(config))
        rows = []
        for epoch in range(1, EPOCHS + 1):
            level = np.log10(start) / 2 * epoch / EPOCHS
            values = {"mig": 0.1 + 0.2 * level, "recon_bce": 40 - 5 * level, "dci_disentanglement": 0.2 + 0.3 * level, "factor_vae_score": 0.5 + 0.3 * level}
            row = {m: float(v + rng.normal(scale=0.02)) for m, v in values.items()}
            row.update(training_iteration=epoch, trial_id=f"{i:08x}", **{"weight/gamma": float(start), "diverged": False})
            rows.append(json.dumps(row))
        (trial / "result.json").write_text("\n".join(rows) + "\n")


def measure(trials: int) -> dict:
    """Run in a subprocess: write, load, report; seconds and this process's peak memory."""
    from analysis import load_experiment
    from analysis.study_report import build_report

    with tempfile.TemporaryDirectory() as tmp:
        experiment = Path(tmp) / "scale"
        started = time.perf_counter()
        write_experiment(experiment, trials)
        written = time.perf_counter()
        tidy = load_experiment(experiment)
        loaded = time.perf_counter()
        build_report([str(experiment)], Path(tmp) / "report", metrics=list(METRICS))
        reported = time.perf_counter()
    return {
        "trials": trials,
        "rows": len(tidy),
        "write_s": written - started,
        "load_s": loaded - written,
        "report_s": reported - loaded,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: measure one size
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one)))
        return
    results = []
    for trials in SIZES:
        done = subprocess.run([sys.executable, __file__, "--one", str(trials)], capture_output=True, text=True, check=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    base = results[0]
    lines = [
        "analysis scale: load_experiment and study report vs number of trials (synthetic, 10 epochs, 4 metrics)",
        f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, python {platform.python_version()}",
        f"{'trials':>7} {'rows':>8} {'load s':>8} {'x100':>6} {'report s':>9} {'x100':>6} {'peak MiB':>9} {'x100':>6}",
    ]
    for r in results:
        lines.append(
            f"{r['trials']:>7} {r['rows']:>8} {r['load_s']:>8.2f} {r['load_s'] / base['load_s']:>6.1f} "
            f"{r['report_s']:>9.2f} {r['report_s'] / base['report_s']:>6.1f} {r['peak_mib']:>9.0f} {r['peak_mib'] / base['peak_mib']:>6.2f}"
        )
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
