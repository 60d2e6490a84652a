"""Training throughput per method: GFLOP per step, ms per step, GFLOP/s, and the share of this core's
matmul throughput, measured in the same process on one thread.

Each method is built as its shipped `paper-<method>` spec builds it (options, batch size, the
dataset's image shape; images are random pixels of that shape, so no data files are needed),
plus the quickstart's factor_vae. FLOPs are torch's FlopCounterMode count of one training step
(matrix multiplications and convolutions, forward and backward: what the hardware's peak is
quoted in); the reference is a 2048 x 2048 float32 matmul timed right before and right after each
case, the faster of the two (shared cores only ever slow a run down, so the share errs low). Steps are timed after a warm-up, as the median
of several timed blocks, once as shipped and once as the step was before the throughput work:
the baseline, in the same process, case by case. The baseline undoes each shortcut:
- fused optimizer kernels -> torch's default for-each update (`unfused`);
- critics frozen inside another network's loss, and one call on a critic's concatenated batches
  (`trainables.methods.base.frozen`, `score_together`) -> weight gradients and one call per batch;
- the one-channel transposed convolution as product + fold -> oneDNN's kernel.
Its FLOP count is the baseline's own (it computes the critics' unused weight gradients too).

    python benchmarks/training_throughput.py --out benchmarks/results/training_throughput.txt
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import platform
import statistics
import time
from unittest import mock

import torch
from torch.utils.flop_counter import FlopCounterMode

from study.spec import load_spec
from trainables.methods import get_method
from trainables.networks import OneChannelConvTranspose2d

IMAGE_SHAPES = {"mnist": (1, 28, 28), "fashion_mnist": (1, 28, 28), "digits": (1, 8, 8)}
CASES = ("paper-factor_vae", "paper-rf_vae", "paper-aae", "paper-infoae", "paper-imae", "paper-joint_vae",
         "paper-info_vae", "paper-beta_vae", "paper-ame_ae", "quickstart")


def image_shape(spec) -> tuple[int, int, int]:
    if spec.dataset.name == "dsprites":
        return (1, spec.dataset.options.get("resolution", 64), spec.dataset.options.get("resolution", 64))
    if spec.dataset.name == "stl10":
        side = spec.dataset.options.get("resize", 96)
        return (3, side, side)
    return IMAGE_SHAPES[spec.dataset.name]


def matmul_gflops(size: int = 2048, seconds: float = 2.0) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    runs, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        a @ b
        runs += 1
    return 2 * size**3 * runs / (time.perf_counter() - started) / 1e9


def unfused(method) -> None:
    """The same optimizers on torch's default (for-each) update instead of the fused kernel."""
    for name, optimizer in method.optimizers.items():
        groups = [{**group, "fused": None, "foreach": None} for group in optimizer.param_groups]
        method.optimizers[name] = type(optimizer)(groups)


@contextlib.contextmanager
def baseline_step(method):
    """The step as it was before the throughput work: see the module docstring."""
    modules = {c.__module__ for c in type(method).__mro__ if c.__module__.startswith("trainables.methods.")}
    with contextlib.ExitStack() as stack:
        for name in modules:
            module = importlib.import_module(name)
            if hasattr(module, "frozen"):
                stack.enter_context(mock.patch.object(module, "frozen", lambda *m: contextlib.nullcontext()))
            if hasattr(module, "score_together"):
                stack.enter_context(mock.patch.object(module, "score_together", lambda f, *b: tuple(f(x) for x in b)))
        stack.enter_context(mock.patch.object(OneChannelConvTranspose2d, "forward", torch.nn.ConvTranspose2d.forward))
        yield


def step_cost(spec_name: str, blocks: int, steps_per_block: int, baseline: bool = False) -> dict:
    spec = load_spec(spec_name)
    entry = spec.methods[0]
    cls = get_method(entry.name)
    shape = image_shape(spec)
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(0)
    method = cls(shape, generator, **cls.resolve_options(entry.options))
    if baseline:
        unfused(method)
    method.train()
    per_step = spec.batch_size * method.batches_per_step
    images = (torch.rand((per_step * 8, *shape), generator=torch.Generator().manual_seed(1)) > 0.5).float()
    weights = {w.name: torch.tensor(w.default) for w in cls.weights}

    def batch(i: int) -> torch.Tensor:
        j = i % 8
        return images[j * per_step : (j + 1) * per_step]

    with baseline_step(method) if baseline else contextlib.nullcontext():
        for i in range(5):
            method.train_step(batch(i), weights)
        with FlopCounterMode(display=False) as counter:
            method.train_step(batch(0), weights)
        flops = counter.get_total_flops()
        times = []
        for _ in range(blocks):
            started = time.perf_counter()
            for i in range(steps_per_block):
                method.train_step(batch(i), weights)
            times.append((time.perf_counter() - started) / steps_per_block)
    ms = statistics.median(times) * 1000
    fused = all(o.defaults.get("fused") for o in method.optimizers.values())
    return {"case": spec_name, "method": entry.name, "shape": "x".join(map(str, shape)), "batch": per_step,
            "gflop": flops / 1e9, "ms": ms, "gflops": flops / 1e9 / (ms / 1000), "fused": fused}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None)
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    for case in CASES:
        before = matmul_gflops()
        row = step_cost(case, args.blocks, args.steps)
        base = step_cost(case, args.blocks, args.steps, baseline=True)
        reference = max(before, matmul_gflops())
        rows.append({**row, "matmul": reference, "base_gflop": base["gflop"], "base_ms": base["ms"]})
        print(f"{case}: {row['ms']:.1f} ms/step, baseline {base['ms']:.1f}", flush=True)
    lines = [
        "training throughput: one training step per method at its paper size (and the quickstart), one thread",
        f"machine: {platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} thread; "
        "share = the step's GFLOP/s over a 2048x2048 float32 matmul's (the faster of before and after the case)",
        f"{'case':<18} {'method':<11} {'image':>8} {'img/step':>8} {'GFLOP/step':>10} {'ms/step':>8} {'GFLOP/s':>8} {'matmul':>7} {'share':>6} "
        f"{'fused':>5} {'base GFLOP':>10} {'base ms':>8} {'speed-up':>8}",
    ]
    for r in rows:
        lines.append(f"{r['case']:<18} {r['method']:<11} {r['shape']:>8} {r['batch']:>8} {r['gflop']:>10.3f} {r['ms']:>8.1f} "
                     f"{r['gflops']:>8.1f} {r['matmul']:>7.1f} {r['gflops'] / r['matmul']:>6.0%} {str(r['fused']):>5} "
                     f"{r['base_gflop']:>10.3f} {r['base_ms']:>8.1f} {r['base_ms'] / r['ms']:>7.2f}x")
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text + "\n")


if __name__ == "__main__":
    main()
