import pytest
import torch

from trainables.weighting import ControllerSettings, WeightController


def run(controller, accuracy, steps):
    for _ in range(steps):
        controller.observe(torch.tensor(accuracy))
        controller.step()
    return float(controller.value)


def test_high_accuracy_raises_the_weight():
    # seed 002's text: an easily fooled-proof discriminator means too little disentanglement pressure
    c = WeightController(10.0, "adaptive", ControllerSettings(scale=0.9, interval=1))
    assert run(c, 0.95, 1) == pytest.approx(10.0 / 0.9)


def test_low_accuracy_lowers_the_weight():
    c = WeightController(10.0, "adaptive", ControllerSettings(scale=0.9, interval=1))
    assert run(c, 0.52, 2) == pytest.approx(10.0 * 0.81)


def test_inside_the_window_leaves_the_weight():
    c = WeightController(10.0, "adaptive", ControllerSettings(target=0.75, window=0.05, interval=1))
    assert run(c, 0.78, 5) == pytest.approx(10.0)


def test_updates_every_interval_on_the_mean_accuracy():
    c = WeightController(1.0, "adaptive", ControllerSettings(scale=0.5, interval=4))
    run(c, 0.99, 3)
    assert float(c.value) == 1.0  # no update before the interval
    # mean over the interval: (0.99*3 + 0.0)/4 ~ 0.74, inside 0.75 +- 0.05
    assert run(c, 0.0, 1) == 1.0


def test_bounds_clip_the_weight():
    c = WeightController(1.0, "adaptive", ControllerSettings(scale=0.5, interval=1, min_weight=0.3, max_weight=3.0))
    assert run(c, 1.0, 10) == pytest.approx(3.0)
    assert run(c, 0.5, 20) == pytest.approx(0.3)


def test_fixed_never_moves():
    c = WeightController(7.0, "fixed", ControllerSettings(interval=1))
    assert run(c, 1.0, 10) == 7.0


def test_annealed_target_moves_from_085_to_060():
    c = WeightController(1.0, "annealed", ControllerSettings(interval=1), total_steps=100)
    assert c.target() == pytest.approx(0.85)
    run(c, 0.75, 50)
    assert c.target() == pytest.approx(0.725)
    run(c, 0.75, 50)
    assert c.target() == pytest.approx(0.60)


def test_annealed_early_accuracy_below_target_lowers_weight():
    # accuracy 0.75 is below the early target 0.85 - 0.05: the weight goes down first
    c = WeightController(1.0, "annealed", ControllerSettings(scale=0.9, interval=1), total_steps=1000)
    assert run(c, 0.75, 1) == pytest.approx(0.9)


def test_state_round_trip():
    c = WeightController(2.0, "adaptive", ControllerSettings(interval=3))
    run(c, 0.9, 4)
    d = WeightController(2.0, "adaptive", ControllerSettings(interval=3))
    d.load_state_dict(c.state_dict())
    assert run(c, 0.9, 5) == run(d, 0.9, 5)


@pytest.mark.parametrize("bad", [{"scale": 1.5}, {"window": -0.1}, {"target": 0.3}, {"min_weight": 5, "max_weight": 1}, {"interval": 0}])
def test_bad_settings_are_rejected(bad):
    with pytest.raises(ValueError):
        ControllerSettings(**bad)


def test_the_paper_updates_at_every_step_by_default():
    c = WeightController(1.0, "adaptive", ControllerSettings(scale=0.5))
    assert run(c, 0.99, 1) == pytest.approx(2.0)


def test_warmup_keeps_the_starting_weight():
    c = WeightController(1.0, "adaptive", ControllerSettings(scale=0.5, warmup=3))
    assert run(c, 0.99, 3) == 1.0
    assert run(c, 0.99, 1) == pytest.approx(2.0)


def test_explicit_thresholds_replace_the_window():
    # the paper's text: raise above 0.90, lower below 0.55; 0.85 sits between them
    settings = ControllerSettings(scale=0.5, lower_below=0.55, raise_above=0.90)
    assert run(WeightController(1.0, "adaptive", settings), 0.85, 3) == 1.0
    assert run(WeightController(1.0, "adaptive", settings), 0.95, 1) == pytest.approx(2.0)
    assert run(WeightController(1.0, "adaptive", settings), 0.50, 1) == pytest.approx(0.5)


def test_time_in_band_counts_the_steps_inside_the_band():
    c = WeightController(1.0, "adaptive", ControllerSettings(target=0.75, window=0.05, interval=4))
    for accuracy in (0.74, 0.79, 0.60, 0.95, 0.71):
        c.observe(torch.tensor(accuracy))
        c.step()
    assert float(c.in_band_share()) == pytest.approx(3 / 5)
    assert c.in_band_share() is None  # reset after reading
    assert WeightController(1.0, "fixed").in_band_share() is None


def test_annealed_time_in_band_follows_the_moving_target():
    c = WeightController(1.0, "annealed", ControllerSettings(window=0.05), total_steps=100)
    run(c, 0.85, 10)  # target 0.85 -> 0.8275: all inside
    assert float(c.in_band_share()) == pytest.approx(1.0)
    run(c, 0.85, 80)  # target reaches 0.80 at step 20 and keeps falling: 0.85 leaves the band after it
    assert float(c.in_band_share()) < 0.2


@pytest.mark.parametrize("bad", [{"warmup": -1}, {"lower_below": 0.6}, {"lower_below": 0.9, "raise_above": 0.6}, {"lower_below": -0.1, "raise_above": 0.5}])
def test_bad_controller_options_are_rejected(bad):
    with pytest.raises(ValueError):
        ControllerSettings(**bad)


def test_annealing_with_fixed_thresholds_is_refused():
    with pytest.raises(ValueError, match="annealed"):
        WeightController(1.0, "annealed", ControllerSettings(lower_below=0.55, raise_above=0.9), total_steps=10)
