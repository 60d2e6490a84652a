"""The throughput shortcuts in the methods' steps (`frozen` critics inside another network's loss,
`score_together` for a critic's batches) train the same model as the plain computation: every
method, a few steps from one initialisation on the same batches, once as shipped and once with
both shortcuts replaced by the plain code (critics keep taking weight gradients, one call per
batch). Compared as in test_fused.py: what the model computes, relative to what training moved."""

import contextlib

import pytest
import torch

from conftest import small_networks
from test_fused import OPTIONS, computed
from trainables.methods import METHODS, get_method


def build(name, image_shape):
    cls = get_method(name)
    torch.manual_seed(0)
    return cls(image_shape, torch.Generator().manual_seed(0), **cls.resolve_options(small_networks(cls) | OPTIONS.get(name, {})))


def plain_frozen(*modules):
    return contextlib.nullcontext()


def plain_score_together(module, *batches):
    return tuple(module(batch) for batch in batches)


def critic_weights_and_grads(method):
    return [p for name, p in method.named_parameters() if "disc" in name or "critic" in name]


@pytest.mark.parametrize("name", list(METHODS))
def test_shortcuts_train_the_same_model(tiny_sprites, name, monkeypatch):
    images = tiny_sprites.train.images[:128]
    shipped, plain = build(name, tiny_sprites.train.image_shape), build(name, tiny_sprites.train.image_shape)
    weights = {w.name: torch.tensor(w.default) for w in get_method(name).weights}
    probe = images[-32:]
    start = computed(shipped, probe)
    module = type(shipped).__module__
    for step in range(4):
        batch = images[32 * step : 32 * (step + 1)]
        shipped.train_step(batch, weights)
        with monkeypatch.context() as patch:
            for target in {module, *(c.__module__ for c in type(shipped).__mro__ if c.__module__.startswith("trainables.methods."))}:
                for helper, replacement in (("frozen", plain_frozen), ("score_together", plain_score_together)):
                    if hasattr(__import__(target, fromlist=["_"]), helper):
                        patch.setattr(f"{target}.{helper}", replacement)
            plain.train_step(batch, weights)
    after, expected = computed(shipped, probe), computed(plain, probe)
    moved = (expected - start).abs().sum()
    difference = (after - expected).abs().sum()
    assert moved > 0 and difference <= 1e-5 * moved, f"shortcuts change the model by {difference / moved:.2e} of what training changed"
    for mine, theirs in zip(critic_weights_and_grads(shipped), critic_weights_and_grads(plain)):
        torch.testing.assert_close(mine, theirs, rtol=1e-4, atol=1e-6)
    assert all(p.requires_grad for p in shipped.parameters()), "frozen critics are unfrozen after the step"


def test_frozen_critic_takes_no_weight_gradient_but_passes_input_gradient():
    from trainables.methods.base import frozen

    critic = torch.nn.Linear(3, 1)
    x = torch.randn(4, 3, requires_grad=True)
    with frozen(critic):
        critic(x).sum().backward()
    assert critic.weight.grad is None and x.grad is not None
    torch.testing.assert_close(x.grad, critic.weight.detach().expand(4, 3))
    assert critic.weight.requires_grad


@pytest.mark.parametrize("channels, side, kernel, stride, padding, bias", [
    (32, 14, 4, 2, 1, True), (32, 32, 4, 2, 1, True), (8, 5, 3, 1, 0, False), (16, 7, 4, 2, 2, True),
])
def test_one_channel_transposed_convolution_matches_torch(channels, side, kernel, stride, padding, bias):
    from trainables.networks import OneChannelConvTranspose2d

    torch.manual_seed(0)
    native = torch.nn.ConvTranspose2d(channels, 1, kernel, stride=stride, padding=padding, bias=bias)
    mine = OneChannelConvTranspose2d(channels, 1, kernel, stride=stride, padding=padding, bias=bias)
    mine.load_state_dict(native.state_dict())
    x = torch.randn(6, channels, side, side, requires_grad=True)
    expected, got = native(x), mine(x)
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    upstream = torch.randn_like(expected)
    grads = torch.autograd.grad(expected, [x, *native.parameters()], upstream)
    mine_grads = torch.autograd.grad(got, [x, *mine.parameters()], upstream)
    for a, b in zip(mine_grads, grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)



@pytest.mark.parametrize("name", list(METHODS))
def test_channels_last_trains_the_same_model(tiny_sprites, name):
    """Trials keep networks and images channels-last on CPU (`trainables.networks.memory_format_for`):
    the same training up to float rounding, as for the fused optimizers."""
    from trainables.networks import images_on

    images = tiny_sprites.train.images[:128]
    shipped, plain = build(name, tiny_sprites.train.image_shape), build(name, tiny_sprites.train.image_shape)
    shipped.to(memory_format=torch.channels_last)
    laid_out = images_on(images, torch.device("cpu"))
    weights = {w.name: torch.tensor(w.default) for w in get_method(name).weights}
    start = computed(plain, images[-32:])
    for step in range(4):
        shipped.train_step(laid_out[32 * step : 32 * (step + 1)], weights)
        plain.train_step(images[32 * step : 32 * (step + 1)], weights)
    after, expected = computed(shipped, laid_out[-32:]), computed(plain, images[-32:])
    moved = (expected - start).abs().sum()
    difference = (after - expected).abs().sum()
    assert moved > 0 and difference <= 1e-4 * moved, f"channels-last differs by {difference / moved:.2e} of what training changed"


def test_a_cpu_trial_keeps_its_convolutions_channels_last(tiny_sprites):
    from trainables.trial import Trial

    trial = Trial({"method": "factor_vae", "epochs": 1, "batch_size": 16, "eval_size": 32, "seed": 0,
                   "options": {"disc_hidden": 32, "disc_layers": 2}}, tiny_sprites)
    convolutions = [m.weight for m in trial.method.modules() if isinstance(m, torch.nn.modules.conv._ConvNd)]
    assert convolutions and all(w.is_contiguous(memory_format=torch.channels_last) for w in convolutions)
    assert trial.train_epoch()["loss/recon"] > 0
