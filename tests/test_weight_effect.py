"""The weight-effect check finds, by measuring, which weights move training: Adam-cancelled and
switched-off weights come out inert, ratio-only losses come out ratio-only, every other weight acts."""

import pytest
import torch

from trainables.datasets import load_dataset
from trainables.methods import METHODS, get_method
from trainables.weight_effect import EffectSettings, check_weight_effects, scale_gradients

# what the check must find by itself, method by method (default options unless given)
INERT = {("beta_vae", "gamma")}  # gamma weighs the categorical code, which categories: 0 switches off
RATIO_ONLY = {"infoae", "ame_ae"}  # every weight in one Adam-optimised sum


@pytest.fixture(scope="module")
def digits_images():
    return load_dataset("digits").train.images[:1024]


@pytest.mark.parametrize("name", list(METHODS))
def test_every_declared_weight_acts_unless_the_check_finds_why_not(digits_images, name):
    report = check_weight_effects(get_method(name), digits_images)
    assert set(report.inert) == {w for m, w in INERT if m == name}, report.lines()
    assert report.ratio_only == (name in RATIO_ONLY), report.lines()
    for effect in report.weights.values():
        if effect.acts:  # where a weight acts, its strongest change is numerical noise's several times over
            assert effect.times_floor >= 3 and effect.strongest.change >= 0.01, effect.describe()


def test_the_aae_weight_moves_updates_many_times_beyond_the_floor(digits_images):
    effect = check_weight_effects(get_method("aae"), digits_images).weights["adv_weight"]
    assert effect.acts and effect.times_floor >= 10, effect.describe()
    assert effect.strongest.change >= 0.05


def test_the_phased_aae_weight_is_cancelled_by_adam(digits_images):
    report = check_weight_effects(get_method("aae"), digits_images, {"update": "phased"})
    assert report.inert == ["adv_weight"], report.lines()
    effect = report.weights["adv_weight"]
    assert effect.strongest.change < 3 * max(c.floor for c in effect.changes) + 0.01


def test_the_phased_aae_weight_acts_under_momentum_sgd(digits_images):
    # SGD has no per-parameter scale to cancel the factor: the same phased update, now sweepable
    report = check_weight_effects(get_method("aae"), digits_images, {"update": "phased", "optimizer": "sgd", "lr": 0.01})
    assert not report.inert and report.weights["adv_weight"].acts, report.lines()


def test_beta_vae_gamma_acts_once_the_categorical_code_is_on(digits_images):
    off = check_weight_effects(get_method("beta_vae"), digits_images, only=["gamma"])
    on = check_weight_effects(get_method("beta_vae"), digits_images, {"categories": 10}, only=["gamma"])
    assert max(c.change for c in off.weights["gamma"].changes) == 0.0  # its term is not in the loss at all
    assert on.weights["gamma"].acts and not on.inert


def test_relevance_weights_act_on_the_relevance_vector(digits_images):
    report = check_weight_effects(get_method("rf_vae"), digits_images, only=["eta_s", "eta_h"])
    for weight in ("eta_s", "eta_h"):
        assert report.weights[weight].strongest.group == "relevance_logits", report.lines()


@pytest.mark.parametrize("optimizer", [lambda p: torch.optim.Adam(p, lr=1e-2), lambda p: torch.optim.SGD(p, lr=1e-2, momentum=0.9)])
def test_the_floor_perturbation_leaves_training_unchanged_up_to_rounding(optimizer):
    """Gradients x4 with the moments rescaled (and SGD's rate / 4), from a state with history: the same steps."""
    def run(scaled: bool) -> torch.Tensor:
        torch.manual_seed(0)
        model = torch.nn.Linear(5, 1)
        opt = optimizer(model.parameters())
        data = torch.randn(64, 5, generator=torch.Generator().manual_seed(1))
        for step in range(10):
            if step == 5 and scaled:
                scale_gradients({"m": opt}, 4.0)
            opt.zero_grad()
            model(data).pow(2).mean().backward()
            opt.step()
        return torch.cat([p.detach().flatten() for p in model.parameters()])

    assert torch.allclose(run(True), run(False), rtol=1e-5, atol=1e-6)


def test_settings_and_weights_are_checked():
    with pytest.raises(ValueError, match="factor"):
        EffectSettings(factor=1.0)
    with pytest.raises(ValueError, match="no weight"):
        check_weight_effects(get_method("aae"), torch.rand(128, 1, 8, 8), only=["beta"])
    with pytest.raises(ValueError, match="at least 64 images"):
        check_weight_effects(get_method("aae"), torch.rand(10, 1, 8, 8))


@pytest.mark.parametrize("shipped", ["digits-aae-sensitivity", "digits-aae-noise-sensitivity", "digits-infoae-sensitivity"])
def test_study_check_passes_the_shipped_digits_specs(capsys, shipped):
    from study.cli import main

    assert main(["check", shipped]) == 0
    out = capsys.readouterr().out
    assert "weight-effect check" in out and "INERT" not in out and "every swept weight moves training" in out
