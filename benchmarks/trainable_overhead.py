"""Seconds per epoch: the Tune trainable vs a bare PyTorch loop, same method, data and process.

Both sides train the quickstart's factor_vae (fixed gamma) on the quickstart's procedural
dSprites and evaluate the same evaluation subset with the same `evaluate` call, so the ratio
is the cost of the framework: the Trial loop, the weight controllers and Tune's Trainable
bookkeeping (result dicts, logging). Epochs alternate between the two sides to cancel drift.

    python benchmarks/trainable_overhead.py --epochs 6 --out benchmarks/results/trainable_overhead.txt
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import time

import ray
import torch
from ray import tune

from study.spec_files import load_spec
from trainables.datasets import load_dataset
from trainables.evaluation import evaluate
from trainables.methods import get_method
from trainables.trainable import StudyTrainable
from trainables.trial import DeviceData


def bare_epoch(method, images, eval_data, batch_size, generator, weights) -> float:
    started = time.perf_counter()
    order = torch.randperm(len(images), generator=generator)
    for step in range(len(images) // batch_size):
        method.train_step(images[order[step * batch_size : (step + 1) * batch_size]], weights)
    evaluate(method, eval_data)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--out", required=True, help="file for the measured lines")
    args = parser.parse_args()
    torch.set_num_threads(1)  # as a 1-CPU Tune trial gets
    ray.init(num_cpus=1, include_dashboard=False, configure_logging=False)

    spec = load_spec("quickstart")
    entry = spec.methods[0]
    splits = load_dataset(spec.dataset.name, **spec.dataset.options)
    config = {
        "method": entry.name, "weighting": "fixed", "weights": {"gamma": 10.0}, "seed": 0,
        "options": dict(entry.options), "epochs": 1000, "batch_size": spec.batch_size, "eval_size": spec.dataset.eval_size,
    }

    data = DeviceData(splits, spec.dataset.eval_size, torch.device("cpu"))
    cls = get_method(entry.name)
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    method = cls(splits.train.image_shape, generator, **cls.resolve_options(entry.options))
    weights = {"gamma": torch.tensor(10.0)}

    # the class Tune runs, with the data through the object store; Trainable.train() adds Tune's bookkeeping
    trainable = tune.with_parameters(StudyTrainable, splits=splits)(config=config)
    bare_times, tune_times = [], []
    bare_epoch(method, data.train_images, data.eval, spec.batch_size, generator, weights)  # warm-up
    trainable.train()
    for _ in range(args.epochs):
        bare_times.append(bare_epoch(method, data.train_images, data.eval, spec.batch_size, generator, weights))
        started = time.perf_counter()
        result = trainable.train()
        tune_times.append(time.perf_counter() - started)
    trainable.stop()

    bare, tuned = statistics.median(bare_times), statistics.median(tune_times)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = [f"machine: {platform.machine()} {torch.get_num_threads()} torch thread(s), torch {torch.__version__}, {platform.python_version()}"]
    lines.append(f"data: quickstart dsprites, {len(splits.train)} training images {tuple(splits.train.image_shape)}, batch {spec.batch_size}, eval {spec.dataset.eval_size}")
    lines.append(f"epochs timed per side: {args.epochs} (alternating, after one warm-up epoch each)")
    lines.append(f"bare PyTorch loop + evaluate : median {bare:.3f} s/epoch  (all: {', '.join(f'{t:.3f}' for t in bare_times)})")
    lines.append(f"StudyTrainable.train()       : median {tuned:.3f} s/epoch  (all: {', '.join(f'{t:.3f}' for t in tune_times)})")
    lines.append(f"ratio trainable / bare       : {tuned / bare:.3f}")
    lines.append(f"evaluation share of a trainable epoch: {result['time/eval_s'] / (result['time/train_s'] + result['time/eval_s']):.3f} "
                 f"({result['time/eval_s']:.3f} s eval, {result['time/train_s']:.3f} s train)")
    lines.append(f"peak RSS of this process: {peak_mib:.0f} MiB")
    report = "\n".join(lines) + "\n"
    print(report)
    with open(args.out, "w") as handle:
        handle.write(report)
    ray.shutdown()


if __name__ == "__main__":
    main()
