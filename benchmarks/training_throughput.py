"""Training throughput per method: GFLOP per step, ms per step, GFLOP/s, and the share of this core's
matmul throughput, measured in the same process on one thread.

Each method is built as its shipped `paper-<method>` spec builds it (options, batch size, the
dataset's image shape; images are random pixels of that shape, so no data files are needed),
plus the quickstart's factor_vae. FLOPs are torch's FlopCounterMode count of one training step
(matrix multiplications and convolutions, forward and backward: what the hardware's peak is
quoted in); the reference is a 2048 x 2048 float32 matmul. After a warm-up, the shipped step, the
baseline step and the matmul are timed in alternating blocks (this virtual machine's cores have
slow spells that last longer than one case), and each is the median of its blocks. The baseline is
the step as it was before the throughput work. The baseline undoes each shortcut:
- fused optimizer kernels -> torch's default for-each update (`unfused`);
- critics frozen inside another network's loss, and one call on a critic's concatenated batches
  (`trainables.methods.base.frozen`, `score_together`) -> weight gradients and one call per batch;
- the one-channel transposed convolution as product + fold -> oneDNN's kernel;
- networks and images channels-last (a CPU trial's layout) -> the default layout.
Its FLOP count is the baseline's own (it computes the critics' unused weight gradients too).

    python benchmarks/training_throughput.py --out benchmarks/results/training_throughput.txt
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import math
import platform
import statistics
import time
from unittest import mock

import torch
from torch.utils.flop_counter import FlopCounterMode

from study.spec_files import load_spec
from trainables.methods import get_method
from trainables.networks import OneChannelConvTranspose2d, images_on, memory_format_for

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


def train_images(spec) -> int:
    """Training images of the spec's dataset (MNIST-like: 60,000; dSprites: its grid less the test tenth),
    for the seconds an epoch's training takes at the measured step time."""
    if spec.dataset.name == "dsprites":
        sizes = {"shape": 3, "scale": 6, "orientation": 40, "position_x": 32, "position_y": 32} | spec.dataset.options.get("sizes", {})
        grid = math.prod(sizes.values())
        return grid - round(0.1 * grid)
    return {"mnist": 60000, "fashion_mnist": 60000, "digits": 1438}.get(spec.dataset.name, 0)


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


class Case:
    """One method built as its spec builds it, with its batches, weights and FLOPs per step."""

    def __init__(self, spec_name: str, baseline: bool = False) -> None:
        spec = load_spec(spec_name)
        entry = spec.methods[0]
        cls = get_method(entry.name)
        self.name, self.method_name, self.shape, self.baseline = spec_name, entry.name, image_shape(spec), baseline
        torch.manual_seed(0)
        self.method = cls(self.shape, torch.Generator().manual_seed(0), **cls.resolve_options(entry.options))
        self.per_step = spec.batch_size * self.method.batches_per_step
        self.images = (torch.rand((self.per_step * 8, *self.shape), generator=torch.Generator().manual_seed(1)) > 0.5).float()
        if baseline:
            unfused(self.method)
        else:  # as a trial places them (trainables/trial.py)
            self.method.to(memory_format=memory_format_for(torch.device("cpu")))
            self.images = images_on(self.images, torch.device("cpu"))
        self.method.train()
        self.weights = {w.name: torch.tensor(w.default) for w in cls.weights}
        with self.context():
            for i in range(5):
                self.step(i)
            with FlopCounterMode(display=False) as counter:
                self.step(0)
        self.flops = counter.get_total_flops()
        self.fused = all(o.defaults.get("fused") for o in self.method.optimizers.values())

    def context(self):
        return baseline_step(self.method) if self.baseline else contextlib.nullcontext()

    def step(self, i: int) -> None:
        j = i % 8
        self.method.train_step(self.images[j * self.per_step : (j + 1) * self.per_step], self.weights)

    def block(self, steps: int) -> float:
        """Seconds per step over `steps` steps."""
        with self.context():
            started = time.perf_counter()
            for i in range(steps):
                self.step(i)
            return (time.perf_counter() - started) / steps


def measure(spec_name: str, blocks: int, steps_per_block: int) -> dict:
    """Shipped and baseline steps and the reference matmul, in alternating blocks: a slow spell of
    the machine (shared cores) then slows all three, and the medians' ratios stay fair."""
    shipped, baseline = Case(spec_name), Case(spec_name, baseline=True)
    times: dict[str, list[float]] = {"shipped": [], "baseline": [], "matmul": []}
    for _ in range(blocks):
        times["matmul"].append(matmul_gflops(seconds=0.5))
        times["shipped"].append(shipped.block(steps_per_block))
        times["baseline"].append(baseline.block(steps_per_block))
    ms = statistics.median(times["shipped"]) * 1000
    reference = statistics.median(times["matmul"])
    steps = train_images(load_spec(spec_name)) // shipped.per_step
    return {"epoch_steps": steps, "epoch_s": steps * ms / 1000, "case": spec_name, "method": shipped.method_name, "shape": "x".join(map(str, shipped.shape)), "batch": shipped.per_step,
            "gflop": shipped.flops / 1e9, "ms": ms, "gflops": shipped.flops / 1e9 / (ms / 1000), "fused": shipped.fused,
            "matmul": reference, "base_gflop": baseline.flops / 1e9, "base_ms": statistics.median(times["baseline"]) * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None)
    parser.add_argument("--blocks", type=int, default=9)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    for case in CASES:
        row = measure(case, args.blocks, args.steps)
        rows.append(row)
        print(f"{case}: {row['ms']:.1f} ms/step, baseline {row['base_ms']:.1f}", flush=True)
    lines = [
        "training throughput: one training step per method at its paper size (and the quickstart), one thread",
        f"machine: {platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} thread; "
        "share = the step's GFLOP/s over a 2048x2048 float32 matmul's; shipped, baseline and matmul timed in alternating blocks, medians",
        f"{'case':<18} {'method':<11} {'image':>8} {'img/step':>8} {'GFLOP/step':>10} {'ms/step':>8} {'GFLOP/s':>8} {'matmul':>7} {'share':>6} "
        f"{'fused':>5} {'base GFLOP':>10} {'base ms':>8} {'speed-up':>8} {'steps/epoch':>11} {'train s/epoch':>13}",
    ]
    for r in rows:
        lines.append(f"{r['case']:<18} {r['method']:<11} {r['shape']:>8} {r['batch']:>8} {r['gflop']:>10.3f} {r['ms']:>8.1f} "
                     f"{r['gflops']:>8.1f} {r['matmul']:>7.1f} {r['gflops'] / r['matmul']:>6.0%} {str(r['fused']):>5} "
                     f"{r['base_gflop']:>10.3f} {r['base_ms']:>8.1f} {r['base_ms'] / r['ms']:>7.2f}x {r['epoch_steps']:>11} {r['epoch_s']:>13.0f}")
    text = "\n".join(lines)
    print(text)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text + "\n")


if __name__ == "__main__":
    main()
