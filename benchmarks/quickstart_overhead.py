"""Wall time of `study run quickstart`, and the share of it not spent training.

Runs the shipped quickstart spec twice on local Ray, with Tune's actor reuse on and off
(off: every trial starts a fresh worker process that imports torch). For each run:
wall time, the summed training seconds reported by the trials (`time/train_s`), the summed
evaluation seconds (`time/eval_s`), and the rest, the share of the available CPU-time
(wall x concurrent trials) spent on neither: process start, imports, data transfer, Ray
scheduling, checkpoints. Peak memory: the largest summed RSS of this process and all its
descendants (Ray's workers), sampled every 0.5 s.

    python benchmarks/quickstart_overhead.py --out benchmarks/results/quickstart_overhead.txt

(Tune's progress tables go to the terminal; the measured lines go to --out as well.)
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import threading
import time

import psutil

from study.launch import run_study
from study.spec_files import load_spec


class PeakTreeMemory:
    """Samples the summed RSS of this process tree in a background thread."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            time.sleep(0.5)

    def __enter__(self) -> "PeakTreeMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def measure(reuse: bool) -> str:
    spec = load_spec("quickstart").model_copy(update={"reuse_actors": reuse})
    with tempfile.TemporaryDirectory() as storage, PeakTreeMemory() as memory:
        started = time.perf_counter()
        _, tidy = run_study(spec, storage_path=storage)
        wall = time.perf_counter() - started
    concurrency = spec.max_concurrent or 1
    train, evaluation = tidy["time/train_s"].sum(), tidy["time/eval_s"].sum()
    budget = wall * concurrency
    rest = budget - train - evaluation
    return (
        f"reuse_actors={reuse}: {tidy['trial_id'].nunique()} trials, wall {wall:.1f} s ({wall / 60:.2f} min); "
        f"of {budget:.0f} CPU-slot seconds ({concurrency} concurrent trials): training {train:.0f} s ({train / budget:.1%}), "
        f"evaluation {evaluation:.0f} s ({evaluation / budget:.1%}), neither {rest:.0f} s ({rest / budget:.1%}); "
        f"peak RSS of the process tree {memory.peak / 2**20:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True, help="file for the measured lines")
    args = parser.parse_args()
    lines = [f"machine: {platform.machine()}, {psutil.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB; python {platform.python_version()}"]
    lines += [measure(reuse=True), measure(reuse=False)]
    report = "\n".join(lines) + "\n"
    print(report)
    with open(args.out, "w") as handle:
        handle.write(report)


if __name__ == "__main__":
    main()
