import math

import pytest
import torch

from conftest import small_networks
from trainables.evaluation import EVAL_KEYS
from trainables.methods import METHODS
from trainables.trial import Trial

ADAPTIVE = sorted(name for name, cls in METHODS.items() if cls.adaptive)


def config_for(method: str, **changes):
    cls = METHODS[method]
    options = {"lr": 1e-3} | small_networks(cls)
    config = {
        "method": method,
        "weighting": "adaptive" if cls.adaptive else "fixed",
        "weights": {},
        "seed": 3,
        "epochs": 3,
        "batch_size": 32,
        "eval_size": 100,
        "options": options,
        "controller": {"interval": 2, "scale": 0.9},
    }
    return config | changes


def without_timings(metrics):
    return {k: v for k, v in metrics.items() if not k.startswith("time/")}


@pytest.mark.parametrize("method", sorted(METHODS))
def test_one_epoch_reports_the_full_suite_deterministically(method, tiny_sprites):
    trial = Trial(config_for(method), tiny_sprites)
    a = without_timings(trial.train_epoch())
    b = without_timings(Trial(config_for(method), tiny_sprites).train_epoch())
    assert a == b
    assert set(EVAL_KEYS) | {"loss/total"} <= set(a)
    assert all(f"weight/{w.name}" in a for w in METHODS[method].weights)
    encoding = trial.method.encode(trial.data.eval.images[:2])
    # on dSprites every metric applies, except I(x;y) and the confident-example labelling without a
    # categorical code, I(x;z), TC without a Gaussian posterior, and TC(y; z) without both (a hybrid code)
    not_applicable = ({"mi_x_y", "cluster_acc_confident"} if encoding.probs is None else set()) | ({"mi_x_z", "tc"} if encoding.logvar is None else set())
    if encoding.probs is None or encoding.logvar is None:
        not_applicable.add("tc_y_z")
    assert all(math.isfinite(a[k]) for k in EVAL_KEYS if k not in not_applicable)
    assert all(math.isnan(a[k]) for k in not_applicable)
    if encoding.logvar is not None:
        gaussian = encoding.logvar.shape[1]  # a hybrid code's probabilities follow its Gaussian latents
        assert f"mi_x_z/{gaussian - 1}" in a and f"mi_x_z/{gaussian}" not in a


def test_different_seed_different_metrics(tiny_sprites):
    a = without_timings(Trial(config_for("factor_vae"), tiny_sprites).train_epoch())
    assert a != without_timings(Trial(config_for("factor_vae", seed=4), tiny_sprites).train_epoch())


@pytest.mark.parametrize("method", sorted(METHODS))
def test_checkpoint_round_trip_continues_exactly(method, tiny_sprites, tmp_path):
    uninterrupted = Trial(config_for(method), tiny_sprites)
    uninterrupted.train_epoch()
    torch.save(uninterrupted.state(), tmp_path / "state.pt")
    expected = without_timings(uninterrupted.train_epoch())

    restored = Trial(config_for(method), tiny_sprites)
    restored.load_state(torch.load(tmp_path / "state.pt", weights_only=True))
    assert without_timings(restored.train_epoch()) == expected


@pytest.mark.parametrize("method", ADAPTIVE)
@pytest.mark.parametrize("accuracy,direction", [(0.95, 1), (0.52, -1), (0.75, 0)])
def test_adaptive_weight_follows_a_rigged_discriminator(method, accuracy, direction, tiny_sprites):
    trial = Trial(config_for(method), tiny_sprites)
    driven, source = next(iter(METHODS[method].adaptive.items()))
    start = trial.controllers[driven].initial
    honest_step = trial.method.train_step

    def rigged_step(x, weights):
        terms = honest_step(x, weights)
        terms[f"disc_acc/{source}"] = torch.tensor(accuracy)
        return terms

    trial.method.train_step = rigged_step
    metrics = trial.train_epoch()
    moved = metrics[f"weight/{driven}"] - start
    tolerance = 1e-6 * start  # the weight lives as a float32 tensor
    assert (moved > tolerance) - (moved < -tolerance) == direction
    assert metrics[f"controller/in_band/{driven}"] == (1.0 if direction == 0 else 0.0)


@pytest.mark.parametrize("method", ADAPTIVE)
def test_fixed_weighting_keeps_the_weight(method, tiny_sprites):
    driven = next(iter(METHODS[method].adaptive))
    metrics = Trial(config_for(method, weighting="fixed", weights={driven: 10.0}), tiny_sprites).train_epoch()
    assert metrics[f"weight/{driven}"] == 10.0
    assert not any(key.startswith("controller/") for key in metrics)


def test_mnist_trial_reports_clustering_without_factors(data_root):
    from trainables.datasets import load_dataset

    splits = load_dataset("mnist", root=str(data_root))
    small = type(splits)(train=splits.train.subset(512), test=splits.test)
    metrics = Trial({"method": "beta_vae", "seed": 0, "epochs": 1, "eval_size": 200, "options": {"lr": 1e-3}}, small).train_epoch()
    assert 0.1 <= metrics["cluster_acc"] <= 1.0 and 0.1 <= metrics["probe_acc"] <= 1.0
    # no ground-truth factors on MNIST: the disentanglement metrics do not apply
    for key in ("mig", "sap", "dci_disentanglement", "factor_vae_score", "beta_vae_score"):
        assert math.isnan(metrics[key])


def test_a_non_finite_loss_marks_the_epoch_diverged(tiny_sprites):
    trial = Trial(config_for("beta_vae"), tiny_sprites)
    honest_step = trial.method.train_step

    def exploding_step(x, weights):
        terms = honest_step(x, weights)
        terms["loss/total"] = torch.tensor(float("nan"))
        return terms

    trial.method.train_step = exploding_step
    metrics = trial.train_epoch()
    assert metrics["diverged"] is True
    assert all(math.isnan(metrics[k]) for k in EVAL_KEYS)  # no evaluation of a diverged model


@pytest.mark.parametrize("method", ["factor_vae", "imae", "aae"])
def test_pictures_show_reconstructions_and_one_row_per_latent(method, tiny_sprites, tmp_path):
    from PIL import Image

    from trainables.pictures import write_pictures

    trial = Trial(config_for(method, epochs=1), tiny_sprites)
    trial.train_epoch()
    images = trial.data.eval.images[:50]
    reconstructions, traversals = write_pictures(trial.method, images, tmp_path, count=6, steps=5, max_latents=4)
    side = images.shape[-1] + 1  # each tile plus one pixel of padding
    assert Image.open(reconstructions).size == (6 * side + 1, 2 * side + 1)
    assert Image.open(traversals).size == (5 * side + 1, 4 * side + 1)
    tiles = torch.from_numpy(__import__("numpy").asarray(Image.open(traversals).convert("L"), dtype="float32"))
    first_row = tiles[1:side, 1 : 5 * side]
    assert first_row.std() > 0  # the images differ: not a blank or constant picture


def test_a_factor_with_one_value_is_dropped_from_the_disentanglement_metrics():
    """A sub-grid with one shape: the metrics score the factors that vary instead of going NaN, and
    match scoring those factors' columns directly."""
    import numpy as np

    from trainables.datasets import load_dataset
    from trainables.evaluation import encode_all, evaluate, scored_factors
    from trainables.metrics import mig

    splits = load_dataset("dsprites", resolution=16, sizes={"shape": 1, "scale": 2, "orientation": 2, "position_x": 4, "position_y": 4})
    trial = Trial({"method": "beta_vae", "epochs": 1, "batch_size": 32, "eval_size": 64, "seed": 0}, splits)
    trial.train_epoch()
    names = list(trial.data.eval.factor_names)
    assert [names[k] for k in scored_factors(trial.data.eval)] == [n for n in names if n != "shape"]
    results = evaluate(trial.method, trial.data.eval)
    for key in ("mig", "sap", "dci_disentanglement", "factor_vae_score", "beta_vae_score"):
        assert math.isfinite(results[key]), key
    code = encode_all(trial.method, trial.data.eval)["code"].double().numpy()
    factors = trial.data.eval.factors.numpy()[:, scored_factors(trial.data.eval)]
    assert results["mig"] == pytest.approx(mig(code, factors))
    with pytest.raises(ValueError, match="single value"):
        mig(code, trial.data.eval.factors.numpy())
    assert np.unique(trial.data.eval.factors.numpy()[:, names.index("shape")]).size == 1


@pytest.mark.parametrize("method", ["factor_vae", "rf_vae"])
def test_factor_vae_takes_a_second_batch_for_its_discriminator_by_default(method, tiny_sprites):
    """Kim & Mnih's Algorithm 2: the VAE trains on a full batch, D's permuted codes come from another."""
    seen = []
    paired = Trial(config_for(method, batch_size=16), tiny_sprites)
    halved = Trial(config_for(method, batch_size=16, options={**config_for(method)["options"], "disc_batch": "half"}), tiny_sprites)
    for trial in (paired, halved):
        honest_step = trial.method.train_step
        trial.method.train_step = lambda x, w, honest_step=honest_step: seen.append(x.shape[0]) or honest_step(x, w)
        trial.train_epoch()
    n = len(tiny_sprites.train.images)
    assert (paired.steps_per_epoch, halved.steps_per_epoch) == (n // 32, n // 16)
    assert set(seen) == {32, 16} and seen.count(32) == n // 32
    with pytest.raises(ValueError, match="disc_batch"):
        Trial(config_for(method, options={"disc_batch": "third"}), tiny_sprites)


@pytest.mark.parametrize("signal,source", [("pair", "pair"), ("image", "image"), ("both", "adv")])
def test_infoae_controller_follows_the_critic_it_is_told_to(signal, source, tiny_sprites):
    # rig one critic high and the other two signals low: beta must rise only when the rigged one is read
    config = config_for("infoae")
    config["options"] = config["options"] | {"controller_signal": signal}
    trial = Trial(config, tiny_sprites)
    honest_step = trial.method.train_step

    def rigged_step(x, weights):
        terms = honest_step(x, weights)
        for key in ("adv", "pair", "image"):
            terms[f"disc_acc/{key}"] = torch.tensor(0.95 if key == source else 0.52)
        return terms

    trial.method.train_step = rigged_step
    metrics = trial.train_epoch()
    assert metrics["weight/beta"] > trial.controllers["beta"].initial
    with pytest.raises(ValueError, match="controller_signal must be one of"):
        Trial(config_for("infoae", options=config["options"] | {"controller_signal": "mean"}), tiny_sprites)


def test_a_method_that_asks_for_the_batch_index_gets_the_rows_of_its_batch(tiny_sprites):
    # the neighbour term pairs each image with its nearest training images, so it must know which rows it was given
    config = config_for("aae", options={"lr": 1e-3, "hidden": 16, "clusters": 4, "style_dim": 2,
                                        "cluster_neighbour_weight": 1.0}, epochs=1)
    trial = Trial(config, tiny_sprites)
    assert trial.method.wants_batch_index and trial.method._training_images is trial.data.train_images
    seen = []
    step = trial.method.train_step

    def recording(batch, weights, index=None):
        seen.append((batch, index))
        return step(batch, weights, index=index)

    trial.method.train_step = recording
    metrics = trial.train_epoch()
    assert len(seen) == trial.steps_per_epoch and math.isfinite(metrics["loss/cluster_neighbour"])
    for batch, index in seen:
        assert torch.equal(trial.data.train_images[index], batch)
    assert trial.method._neighbour_table.shape == (len(trial.data.train_images), 5)
