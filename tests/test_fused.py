"""Fused optimizer steps (one kernel for all parameters) train the same as torch's default loop,
up to float rounding: every method, a few steps from one initialisation on the same batches.

What is compared is what the model computes (its codes and reconstructions of a fixed batch, batch
norm on batch statistics), not every parameter: a bias followed by batch norm has a gradient that
is zero in exact arithmetic, Adam turns its rounding noise into steps of +-lr, and those steps
differ between any two implementations while changing nothing the model computes."""

import pytest
import torch

from conftest import small_networks
from trainables.methods import METHODS, get_method

OPTIONS = {"beta_vae": {"categories": 10}}  # the categorical code's terms too


def build(name, image_shape):
    cls = get_method(name)
    torch.manual_seed(0)
    return cls(image_shape, torch.Generator().manual_seed(0), **cls.resolve_options(small_networks(cls) | OPTIONS.get(name, {})))


def unfused(method) -> None:
    """The same optimizers with torch's default (for-each) update instead of the fused kernel."""
    for name, optimizer in method.optimizers.items():
        groups = [{**group, "fused": None, "foreach": None} for group in optimizer.param_groups]
        method.optimizers[name] = type(optimizer)(groups)


def computed(method, x) -> torch.Tensor:
    """Codes and reconstruction logits of x (batch norm on the batch's statistics)."""
    with torch.no_grad():
        code = method.encode(x).code
        return torch.cat([code.flatten(), method.decode(code).flatten()])


@pytest.mark.parametrize("name", list(METHODS))
def test_fused_and_unfused_steps_agree(tiny_sprites, name):
    images = tiny_sprites.train.images[:128]
    fused, reference = build(name, tiny_sprites.train.image_shape), build(name, tiny_sprites.train.image_shape)
    assert all(o.defaults.get("fused") for o in fused.optimizers.values()), "the CPU build of torch here has fused Adam and SGD"
    unfused(reference)
    assert not any(o.defaults.get("fused") for o in reference.optimizers.values())
    weights = {w.name: torch.tensor(w.default) for w in get_method(name).weights}
    probe = images[-32:]
    start = computed(fused, probe)
    for step in range(4):
        batch = images[32 * step : 32 * (step + 1)]
        fused.train_step(batch, weights)
        reference.train_step(batch, weights)
    after, expected = computed(fused, probe), computed(reference, probe)
    moved = (expected - start).abs().sum()
    difference = (after - expected).abs().sum()
    assert moved > 0 and difference <= 1e-4 * moved, f"fused differs by {difference / moved:.2e} of what training changed"
