"""What every method provides to the trainable: weights it declares, a train step, encode/decode.

A method is a `torch.nn.Module` that owns its networks and optimizers, so it can be trained
and tested without Ray. It takes loss weights as tensors at every step (from
`trainables.weighting.WeightController`), so fixed and adaptive weighting share one code path,
and returns its loss terms as detached tensors, so the caller decides when to copy them to the
host (once per epoch, not per step).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn


@dataclass(frozen=True)
class WeightSpec:
    """A loss weight: its default (the paper's), the range a study may sweep, and its scale."""

    name: str
    default: float
    low: float
    high: float
    log: bool = True
    doc: str = ""

    def __post_init__(self) -> None:
        if not self.low <= self.default <= self.high:
            raise ValueError(f"{self.name}: default {self.default} outside [{self.low}, {self.high}]")
        if self.log and self.low <= 0:
            raise ValueError(f"{self.name}: a log-scale weight needs a positive range")


@dataclass
class Encoding:
    """What evaluation needs from the encoder for one batch.

    code: the deterministic code that `decode` takes (a posterior mean, or the cluster
      probabilities and style together), points x latents.
    logvar: log-variance of a factorised Gaussian posterior, where the method has one; it
      belongs to the first `logvar.shape[1]` columns of `code` (a hybrid code puts the
      categorical probabilities after the Gaussian means).
    probs: p(y|x) of a categorical code, where the method has one; its argmax is the cluster.
    """

    code: torch.Tensor
    logvar: torch.Tensor | None = None
    probs: torch.Tensor | None = None


class Method(nn.Module):
    """Base class: subclasses set the class attributes and implement the three methods."""

    name: ClassVar[str]
    summary: ClassVar[str]
    weights: ClassVar[tuple[WeightSpec, ...]]
    # weight name -> name of the discriminator whose accuracy an adaptive controller follows
    adaptive: ClassVar[dict[str, str]] = {}
    # options that are not loss weights (sizes, learning rates), with their defaults
    option_defaults: ClassVar[dict[str, Any]] = {}
    # options that only steer the adaptive controller (a spec that sets one with fixed weighting alone is refused)
    controller_options: ClassVar[tuple[str, ...]] = ()

    def __init__(self, image_shape: tuple[int, int, int], generator: torch.Generator) -> None:
        super().__init__()
        # how many batches of the spec's batch_size one train_step takes (FactorVAE: a second batch
        # for the discriminator's permuted codes); the trainer hands it that many images at once
        self.batches_per_step = 1
        self.image_shape = tuple(image_shape)
        self.generator = generator
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        # learning-rate schedules stepped once per epoch by `end_epoch`
        self.schedulers: dict[str, torch.optim.lr_scheduler.LRScheduler] = {}
        # True when train_step takes `index=`, the batch's rows in the training images of `attach_training_images`
        self.wants_batch_index = False

    @classmethod
    def resolve_options(cls, options: dict[str, Any] | None) -> dict[str, Any]:
        """Defaults overlaid with the given options; an unknown option is an error."""
        options = dict(options or {})
        unknown = set(options) - set(cls.option_defaults)
        if unknown:
            raise ValueError(f"{cls.name} has no option(s) {sorted(unknown)}; its options are {sorted(cls.option_defaults)}")
        return {**cls.option_defaults, **options}

    def train_step(self, x: torch.Tensor, weights: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """One optimisation step on batch x; returns detached `loss/<term>` and `disc_acc/<name>` tensors."""
        raise NotImplementedError

    def attach_training_images(self, images: torch.Tensor) -> None:
        """The trial's training images on its device (a reference, not a copy), for methods whose terms look
        beyond the batch; by default unused."""

    def end_epoch(self) -> None:
        """Called after each pass over the training set: steps the per-epoch learning-rate schedules."""
        for scheduler in self.schedulers.values():
            scheduler.step()

    def encode(self, x: torch.Tensor) -> Encoding:
        raise NotImplementedError

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Image logits for codes z."""
        raise NotImplementedError

    def training_state(self) -> dict[str, Any]:
        """Everything needed to continue training exactly: parameters, optimizers, the random stream."""
        return {
            "model": self.state_dict(),
            "optimizers": {k: opt.state_dict() for k, opt in self.optimizers.items()},
            "schedulers": {k: sched.state_dict() for k, sched in self.schedulers.items()},
            "generator": self.generator.get_state(),
        }

    def load_training_state(self, state: dict[str, Any]) -> None:
        self.load_state_dict(state["model"])
        for key, opt in self.optimizers.items():
            opt.load_state_dict(state["optimizers"][key])
        for key, scheduler in self.schedulers.items():
            scheduler.load_state_dict(state["schedulers"][key])
        self.generator.set_state(state["generator"])


def adam(params, lr: float, betas: tuple[float, float] = (0.9, 0.999)) -> torch.optim.Adam:
    """Adam with torch's fused kernel where this torch supports it for the parameters (CPU and CUDA
    since torch 2.4): one kernel for all parameters instead of a loop of small ones, about 9x faster
    per update on 6M CPU parameters, the same arithmetic up to float rounding (tests/test_fused.py)."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
    except (RuntimeError, TypeError, ValueError):  # an older torch, or a device without the fused kernel
        return torch.optim.Adam(params, lr=lr, betas=betas)


def sgd(params, lr: float, momentum: float = 0.0) -> torch.optim.SGD:
    """SGD with momentum, fused where this torch supports it (see `adam`)."""
    params = list(params)
    try:
        return torch.optim.SGD(params, lr=lr, momentum=momentum, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.SGD(params, lr=lr, momentum=momentum)


@contextmanager
def frozen(*modules: nn.Module) -> Iterator[None]:
    """Within the block, the modules' parameters take no gradient; they still pass gradients through.

    For a critic inside another network's loss (FactorVAE's D in gamma * TC, AAE's adversaries in the
    generator loss): the weight gradients that loss would leave on the critic are never used (the
    critic's own update zeroes them first), and on CPU they cost as much as the input gradients.
    The networks' updates are the same; tests/test_throughput_shortcuts.py checks it."""
    states = [(p, p.requires_grad) for m in modules for p in m.parameters()]
    for parameter, _ in states:
        parameter.requires_grad_(False)
    try:
        yield
    finally:
        for parameter, state in states:
            parameter.requires_grad_(state)


def instance_noise(tensor: torch.Tensor, std: float, generator: torch.Generator) -> torch.Tensor:
    """tensor + N(0, std^2) noise: what a critic sees in training when its inputs are blurred
    (instance noise, so that real and fake inputs overlap and the critic's gradient stays useful).
    std 0 returns the tensor itself and draws nothing, so runs without noise are unchanged to the bit."""
    if not std:
        return tensor
    noise = torch.randn(tensor.shape, generator=generator, device=tensor.device, dtype=tensor.dtype)
    return tensor + std * noise


# random_affine's default ranges: a turn of up to 15 degrees, a shear of up to 0.3, 10% in size
AFFINE_DEGREES, AFFINE_SHEAR, AFFINE_SCALE = 15.0, 0.3, 0.1


def random_affine(images: torch.Tensor, generator: torch.Generator, degrees: float = AFFINE_DEGREES,
                  shear: float = AFFINE_SHEAR, scale: float = AFFINE_SCALE) -> torch.Tensor:
    """Each image turned by its own random rotation (up to `degrees`), horizontal shear (up to `shear`, a slant) and
    scale (1 +- `scale`), about its centre, on the images' device: the small changes of hand that leave a digit a
    digit (the invariance that clustering methods such as IIC ask of their clusters). The draws come from
    `generator`, so a seeded run repeats."""
    n = images.shape[0]

    def uniform(width: float) -> torch.Tensor:
        return (torch.rand(n, generator=generator, device=images.device, dtype=images.dtype) * 2 - 1) * width

    angle, slant, size = uniform(degrees) * torch.pi / 180, uniform(shear), 1 + uniform(scale)
    cos, sin = torch.cos(angle) / size, torch.sin(angle) / size
    # the sampling grid's matrix (output -> input coordinates): rotation and scale, then a shear of x along y
    theta = torch.stack([torch.stack([cos, -sin + slant * cos, torch.zeros_like(cos)], dim=1),
                         torch.stack([sin, cos + slant * sin, torch.zeros_like(cos)], dim=1)], dim=1)
    grid = nn.functional.affine_grid(theta, list(images.shape), align_corners=False)
    return nn.functional.grid_sample(images, grid, padding_mode="zeros", align_corners=False)


def affine_invariance(probs: torch.Tensor, logits_of: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor,
                      generator: torch.Generator, strength: float = 1.0) -> torch.Tensor:
    """KL(p(y|x) || p(y|T(x))) averaged over the batch, T being `random_affine` with its default ranges times
    `strength`: how far a cluster posterior moves when each image is turned, slanted and resized a little. `probs`
    (the clean posterior) is held fixed, so the gradient reaches the network only through the moved images;
    `logits_of` maps images to cluster logits."""
    return posterior_shift(probs, logits_of(affine_moved(images, generator, strength)))


def affine_moved(images: torch.Tensor, generator: torch.Generator, strength: float = 1.0) -> torch.Tensor:
    """The images `affine_invariance` compares against: `random_affine` with its default ranges times `strength`."""
    return random_affine(images, generator, AFFINE_DEGREES * strength, AFFINE_SHEAR * strength, AFFINE_SCALE * strength)


def pixel_neighbours(images: torch.Tensor, k: int, chunk: int = 500) -> torch.Tensor:
    """Each image's k nearest other images by Euclidean distance between pixels, as an (n, k) index tensor on the
    images' device, nearest first. Computed in chunks of rows (a chunk x n distance block at a time), so memory
    stays at chunk x n floats. An image is never its own neighbour; exact duplicates are each other's."""
    n = images.shape[0]
    if not 1 <= k < n:
        raise ValueError(f"pixel_neighbours: k must be in [1, {n - 1}] for {n} images, got {k}")
    flat = images.reshape(n, -1).float()
    squares = flat.square().sum(dim=1)
    found = []
    for start in range(0, n, chunk):
        rows = flat[start:start + chunk]
        distances = squares[start:start + chunk, None] - 2 * rows @ flat.T + squares[None]
        own = torch.arange(rows.shape[0], device=images.device)
        distances[own, own + start] = float("inf")
        found.append(distances.topk(k, dim=1, largest=False).indices)
    return torch.cat(found)


def neighbour_agreement(probs: torch.Tensor, neighbour_probs: torch.Tensor) -> torch.Tensor:
    """-log <q(y|x), q(y|n)> averaged over the batch, n a neighbour of x: SCAN's consistency loss (Van Gansbeke et
    al., 2020), low when an image and its neighbour sit confidently in the same cluster; gradients reach both."""
    return -torch.log((probs * neighbour_probs).sum(dim=1).clamp_min(1e-12)).mean()


def posterior_shift(probs: torch.Tensor, moved_logits: torch.Tensor) -> torch.Tensor:
    """KL(p || softmax(moved_logits)) averaged over the batch, p held fixed: how far a posterior moved."""
    target = probs.detach()
    moved = torch.log_softmax(moved_logits, dim=1)
    return (target * (torch.log(target.clamp_min(1e-12)) - moved)).sum(dim=1).mean()


def score_together(module: nn.Module, *batches: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """module applied to each batch, as one call on their concatenation (one large matrix product
    instead of several small ones, and one weight-gradient sum). Only for modules whose rows do not
    interact (no batch norm), so the result is the separate calls' up to float rounding."""
    scores = module(torch.cat(batches))
    return tuple(scores.split([b.shape[0] for b in batches]))


def gaussian_sample(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Reparameterised sample of N(mu, exp(logvar)) with noise from the method's own generator."""
    noise = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + torch.exp(0.5 * logvar) * noise


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) summed over latents, averaged over the batch."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1).mean()


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Bernoulli negative log-likelihood per image (summed over pixels), averaged over the batch."""
    per_pixel = nn.functional.binary_cross_entropy_with_logits(logits, x, reduction="none")
    return per_pixel.flatten(1).sum(dim=1).mean()

