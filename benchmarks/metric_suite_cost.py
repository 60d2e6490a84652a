"""Seconds for each metric of the full suite at its default sizes, on 10,000 points,
10 latents and 5 factors (the full dSprites factor sizes 3, 6, 40, 32, 32), single-threaded;
`tc_y_z` (hybrid codes only) on the same latents with a 10-way cluster posterior.

The code is a noisy copy of the five factors plus five noise latents, so every classifier has
real work to do. Also times the same suite on the quickstart's evaluation set size (720
points) for comparison with an epoch (see trainable_overhead.txt for the epoch).

    python benchmarks/metric_suite_cost.py --out benchmarks/results/metric_suite_cost.txt
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import resource
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from trainables.evaluation import fit_score_split  # noqa: E402
from trainables.metrics import (  # noqa: E402
    beta_vae_score, clustering_scores, dci, factor_vae_score, gaussian_information, kmeans_clusters, mig, probe_accuracy, sap,
)
from trainables.metrics.information import hybrid_total_correlation  # noqa: E402


def suite(n: int, rng: np.random.Generator, boosters: tuple[str, ...]) -> list[tuple[str, float]]:
    sizes = (3, 6, 40, 32, 32)
    factors = np.array(list(itertools.product(*[range(s) for s in sizes])))[rng.integers(3 * 6 * 40 * 32 * 32, size=n)]
    code = np.c_[factors / np.array(sizes) + rng.normal(scale=0.05, size=factors.shape), rng.normal(size=(n, 5))]
    logvar = np.full(code.shape, -3.0)
    labels = factors[:, 0]
    cluster_logits = 4.0 * np.eye(10)[factors[:, 3] % 10] + rng.normal(size=(n, 10))  # a hybrid code's 10-way posterior
    probs = np.exp(cluster_logits) / np.exp(cluster_logits).sum(axis=1, keepdims=True)
    fit, score = fit_score_split(n)
    timings = []

    def timed(name, fn):
        started = time.perf_counter()
        fn()
        timings.append((name, time.perf_counter() - started))

    timed("mig (20 bins)", lambda: mig(code, factors))
    timed("sap (LinearSVC per latent x factor)", lambda: sap(code[fit], factors[fit], code[score], factors[score]))
    for booster in boosters:
        timed(f"dci ({booster} boosted trees)", lambda booster=booster: dci(code[fit], factors[fit], code[score], factors[score], booster=booster))
    timed("factor_vae_score (10,000 + 5,000 votes of 64)", lambda: factor_vae_score(code, factors))
    timed("beta_vae_score (10,000 + 5,000 points of 64 pairs)", lambda: beta_vae_score(code, factors))
    timed("mi_x_z + tc (minibatch estimator, batches of 1,000)", lambda: gaussian_information(code, logvar))
    timed("tc_y_z (hybrid codes: 10 classes summed exactly)", lambda: hybrid_total_correlation(code, logvar, probs))
    timed("k-means + clustering scores", lambda: clustering_scores(labels, kmeans_clusters(code, 3)))
    timed("probe_acc (logistic regression)", lambda: probe_accuracy(code[fit], labels[fit], code[score], labels[score]))
    return timings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--with-sklearn-dci", action="store_true", help="also time disentanglement_lib's sklearn booster (minutes)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    lines = [f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, 1 thread"]
    boosters = ("lightgbm", "sklearn") if args.with_sklearn_dci else ("lightgbm",)
    for n in (10_000, 720):
        timings = suite(n, rng, boosters if n == 10_000 else ("lightgbm",))
        total = sum(t for name, t in timings if "sklearn" not in name)
        lines.append(f"\n{n} points, 10 latents, 5 factors (3, 6, 40, 32, 32):")
        lines += [f"  {name:<55} {t:8.2f} s" for name, t in timings]
        lines.append(f"  {'full suite (lightgbm DCI)':<55} {total:8.2f} s")
    lines.append(f"\npeak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    report = "\n".join(lines) + "\n"
    print(report)
    with open(args.out, "w") as handle:
        handle.write(report)


if __name__ == "__main__":
    main()
