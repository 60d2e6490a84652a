import math

import pytest
import torch

from conftest import small_networks
from trainables.methods import METHODS, get_method
from trainables.methods.factor_vae import permute_dims
from trainables.networks import ConvDecoder, ConvEncoder, MLPEncoder, make_decoder, make_encoder


@pytest.mark.parametrize("shape,conv", [((1, 64, 64), True), ((1, 32, 32), True), ((1, 28, 28), False), ((1, 8, 8), False)])
def test_networks_by_shape(shape, conv):
    encoder, decoder = make_encoder(shape, 20), make_decoder(shape, 10)
    assert isinstance(encoder, ConvEncoder if conv else MLPEncoder)
    assert encoder(torch.rand(5, *shape)).shape == (5, 20)
    assert decoder(torch.rand(5, 10)).shape == (5, *shape)


@pytest.mark.parametrize("shape", [(1, 32, 32), (3, 28, 20)])
def test_the_broadcast_decoder_draws_each_pixel_from_the_code_and_its_coordinates(shape):
    decoder = make_decoder(shape, 6, "broadcast")
    assert decoder(torch.rand(5, 6)).shape == (5, *shape)
    # the coordinate channels let one code draw different pixels: the same code gives a non-constant
    # image, where a decoder that saw only the tiled code would give one value per channel
    image = decoder(torch.zeros(1, 6))
    assert image.flatten(2).std(dim=2).min() > 0
    with pytest.raises(ValueError, match="decoder must be one of"):
        make_decoder(shape, 6, "pixelcnn")


def test_factor_vae_and_rf_vae_train_with_the_broadcast_decoder(tiny_sprites):
    x, weights = tiny_sprites.train.images[:16], {"gamma": torch.tensor(10.0)}
    for name in ("factor_vae", "rf_vae"):
        cls = get_method(name)
        method = cls(tiny_sprites.train.image_shape, torch.Generator().manual_seed(0), decoder="broadcast", **small_networks(cls))
        rf_weights = {w.name: torch.tensor(w.default) for w in cls.weights} | weights
        losses = method.train_step(x, rf_weights)
        assert torch.isfinite(losses["loss/total"])
        assert method.decode(method.encode(x).code).shape == x.shape
        with pytest.raises(ValueError, match=f"{name}: decoder must be one of"):
            cls(tiny_sprites.train.image_shape, torch.Generator(), decoder="deconv")


def test_conv_widths_follow_disentanglement_lib():
    widths = [m.out_channels for m in ConvEncoder((1, 64, 64), 20).modules() if isinstance(m, torch.nn.Conv2d)]
    assert widths == [32, 32, 64, 64]
    widths32 = [m.out_channels for m in ConvEncoder((1, 32, 32), 20).modules() if isinstance(m, torch.nn.Conv2d)]
    assert widths32 == [32, 64, 64]
    assert isinstance(make_decoder((1, 32, 32), 10), ConvDecoder)


def test_permute_dims_shuffles_each_column_independently():
    z = torch.arange(40.0).reshape(10, 4)
    p = permute_dims(z, torch.Generator().manual_seed(0))
    for j in range(4):
        assert sorted(p[:, j].tolist()) == z[:, j].tolist()
    assert not torch.equal(p, z)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_a_few_steps_lower_the_loss(name, tiny_sprites):
    torch.manual_seed(0)
    cls = get_method(name)
    options = {"lr": 1e-3} | small_networks(cls)
    method = cls(tiny_sprites.train.image_shape, torch.Generator().manual_seed(0), **cls.resolve_options(options))
    weights = {w.name: torch.tensor(w.default) for w in cls.weights}
    x = tiny_sprites.train.images[:64]
    first = [method.train_step(x, weights)["loss/recon"].item() for _ in range(3)]
    later = [method.train_step(x, weights)["loss/recon"].item() for _ in range(40)]
    assert sum(later[-3:]) / 3 < 0.7 * sum(first) / 3


@pytest.mark.parametrize("name", sorted(n for n, m in METHODS.items() if m.adaptive))
def test_adversarial_methods_report_discriminator_accuracy(name, tiny_sprites):
    cls = get_method(name)
    method = cls(tiny_sprites.train.image_shape, torch.Generator().manual_seed(0), **small_networks(cls))
    weights = {w.name: torch.tensor(w.default) for w in cls.weights}
    terms = method.train_step(tiny_sprites.train.images[:32], weights)
    for source in cls.adaptive.values():
        assert 0.0 <= terms[f"disc_acc/{source}"].item() <= 1.0
    assert {"loss/recon", "loss/disc", "loss/total"} <= set(terms)


def test_rf_vae_relevance_follows_its_penalties(tiny_sprites):
    cls = get_method("rf_vae")
    x = tiny_sprites.train.images[:32]

    def relevance_after(weights):
        torch.manual_seed(0)
        method = cls(tiny_sprites.train.image_shape, torch.Generator().manual_seed(0), lr=1e-2, disc_hidden=16, disc_layers=1)
        base = {w.name: torch.tensor(w.default) for w in cls.weights}
        for _ in range(20):
            method.train_step(x, base | weights)
        return method.relevance.detach()

    # r starts at 0.5 and Adam moves its logits by about lr per step: a strong sparsity weight
    # pulls every r_j down; without penalties the lower KL weight of relevant latents pulls r up
    assert (relevance_after({"eta_s": torch.tensor(500.0), "eta_h": torch.tensor(0.0)}) < 0.46).all()
    assert (relevance_after({"eta_s": torch.tensor(0.0), "eta_h": torch.tensor(0.0)}) > 0.5).all()


@pytest.mark.parametrize("name", ["factor_vae", "rf_vae"])
def test_disc_steps_update_the_tc_discriminator_that_often_and_lr_decay_shrinks_both_rates(name, tiny_sprites):
    cls = get_method(name)
    weights = {w.name: torch.tensor(w.default) for w in cls.weights}
    x = tiny_sprites.train.images[:32]

    def after_one_step(**options):
        torch.manual_seed(0)  # the same initial networks
        method = cls(tiny_sprites.train.image_shape, torch.Generator().manual_seed(0), **small_networks(cls), **options)
        terms = method.train_step(x, weights)
        first = next(iter(method.discriminator.parameters()))
        return method, terms, int(method.optimizers["disc"].state[first]["step"])

    _, once_terms, once = after_one_step()
    method, thrice_terms, thrice = after_one_step(disc_steps=3, lr_decay=0.5)
    assert (once, thrice) == (1, 3)
    # the reported accuracy is the first update's, before D trained on this batch: the same as with one update
    assert thrice_terms[f"disc_acc/{cls.adaptive['gamma']}"].item() == once_terms[f"disc_acc/{cls.adaptive['gamma']}"].item()
    method.end_epoch()
    assert {group["lr"] for key in ("vae", "disc") for group in method.optimizers[key].param_groups} == {5e-5}  # rf_vae's relevance group too
    for bad in ({"disc_steps": 0}, {"disc_steps": 1.5}, {"lr_decay": 0.0}, {"lr_decay": 1.5}):
        with pytest.raises(ValueError, match="disc_steps|lr_decay"):
            cls(tiny_sprites.train.image_shape, torch.Generator().manual_seed(0), **bad)


def test_unknown_method_and_option():
    with pytest.raises(KeyError, match="unknown method"):
        get_method("nope")
    with pytest.raises(ValueError, match="no option"):
        get_method("beta_vae").resolve_options({"depth": 3})


def test_aae_codes_clusters_and_priors(tiny_sprites):
    cls = get_method("aae")
    method = cls(tiny_sprites.train.image_shape, torch.Generator().manual_seed(0), clusters=30, style_dim=4, hidden=32)
    encoding = method.encode(tiny_sprites.train.images[:8])
    assert encoding.probs.shape == (8, 30) and torch.allclose(encoding.probs.sum(1), torch.ones(8))
    assert encoding.code.shape == (8, 34)
    assert method.decode(encoding.code).shape == (8, *tiny_sprites.train.image_shape)
    y, z = method._prior(1000, torch.device("cpu"))
    assert torch.equal(y.sum(1), torch.ones(1000)) and abs(float(z.std()) - 1) < 0.1
    with pytest.raises(ValueError, match="at least 2 clusters"):
        cls(tiny_sprites.train.image_shape, torch.Generator(), clusters=1)


def test_aae_optimizer_rates_and_adversary_noise(tiny_sprites):
    cls = get_method("aae")
    shape, x = tiny_sprites.train.image_shape, tiny_sprites.train.images[:16]
    weights = {"adv_weight": torch.tensor(1.0)}

    def first_step(**options):
        torch.manual_seed(0)
        method = cls(shape, torch.Generator().manual_seed(0), clusters=4, style_dim=2, hidden=16, update="phased", **options)
        return method, method.train_step(x, weights)

    plain, plain_losses = first_step()
    same, same_losses = first_step(disc_noise=0.0)
    noisy, noisy_losses = first_step(disc_noise=0.3)
    # 0 is the behaviour before the option, to the bit; noise changes what the adversaries see
    assert torch.equal(plain_losses["loss/disc"], same_losses["loss/disc"])
    assert not torch.equal(plain_losses["loss/disc"], noisy_losses["loss/disc"])
    # the style adversary's noise: null follows disc_noise to the bit; its own value changes only what
    # the Gaussian adversary sees (0 there with 0.3 on the categorical one differs from 0.3 on both)
    assert torch.equal(first_step(disc_noise=0.3, style_disc_noise=None)[1]["loss/disc"], noisy_losses["loss/disc"])
    assert torch.equal(first_step(disc_noise=0.3, style_disc_noise=0.3)[1]["loss/disc"], noisy_losses["loss/disc"])
    cat_only, cat_only_losses = first_step(disc_noise=0.3, style_disc_noise=0.0)
    assert (cat_only.style_disc_noise, cat_only.disc_noise) == (0.0, 0.3)
    assert not torch.equal(cat_only_losses["loss/disc"], noisy_losses["loss/disc"])
    # input noise: 0 draws nothing; noise on the encoder's input changes the reconstruction of the
    # clean batch in training, while evaluation's encoding stays deterministic
    unnoised, unnoised_losses = first_step(input_noise=0.0)
    denoising, denoising_losses = first_step(input_noise=0.3)
    assert torch.equal(plain_losses["loss/recon"], unnoised_losses["loss/recon"])
    assert not torch.equal(plain_losses["loss/recon"], denoising_losses["loss/recon"])
    assert torch.equal(denoising.encode(x).code, denoising.encode(x).code)
    # the squared-error reconstruction is half the summed squared error of the sigmoid output
    squared, squared_losses = first_step(recon_loss="squared")
    assert torch.equal(first_step(recon_loss="bernoulli")[1]["loss/recon"], plain_losses["loss/recon"])
    torch.manual_seed(0)
    fresh = cls(shape, torch.Generator().manual_seed(0), clusters=4, style_dim=2, hidden=16, update="phased", recon_loss="squared")
    y, z = fresh._codes(x)
    expected = 0.5 * ((torch.sigmoid(fresh.decode(torch.cat([y, z], dim=1))) - x) ** 2).sum(dim=(1, 2, 3)).mean()
    assert torch.allclose(squared_losses["loss/recon"], expected)
    sgd_method, _ = first_step(optimizer="sgd", momentum=0.5, lr=0.01, gen_lr=0.1)
    assert isinstance(sgd_method.optimizers["gen"], torch.optim.SGD)
    assert sgd_method.optimizers["gen"].param_groups[0]["lr"] == 0.1
    assert sgd_method.optimizers["recon"].param_groups[0]["lr"] == 0.01
    assert sgd_method.optimizers["recon"].param_groups[0]["momentum"] == 0.5
    # one Adam for both phases: the encoder takes two steps per train_step, the decoder (no gradient
    # in the regularisation phase) one; the own optimizer, the default, gives each network one step there
    shared, _ = first_step(gen_optimizer="shared", adam_beta1=0.1)
    own_step = plain.optimizers["recon"].state
    shared_step = shared.optimizers["recon"].state
    assert "gen" not in shared.optimizers and "gen" in plain.optimizers
    assert int(shared_step[shared.cluster_head.weight]["step"]) == 2 and int(shared_step[shared.decoder[0].weight]["step"]) == 1
    assert int(own_step[plain.cluster_head.weight]["step"]) == 1
    assert shared.optimizers["recon"].param_groups[0]["betas"] == (0.1, 0.999)
    assert plain.optimizers["recon"].param_groups[0]["betas"] == (0.5, 0.999)
    assert torch.equal(first_step(gen_optimizer="own", adam_beta1=0.5)[1]["loss/gen"], plain_losses["loss/gen"])
    # musyoku's initialisation: every linear layer N(0, 0.01^2) with zero biases; None keeps PyTorch's
    small = cls(shape, torch.Generator().manual_seed(0), clusters=4, style_dim=2, hidden=16, update="phased", init_std=0.01)
    linear = [m for m in small.modules() if isinstance(m, torch.nn.Linear)]
    assert abs(float(torch.cat([m.weight.flatten() for m in linear]).std()) - 0.01) < 5e-4
    assert all(float(m.bias.abs().max()) == 0 for m in linear)
    _, small_losses = first_step(init_std=0.01)
    assert torch.equal(first_step(init_std=None)[1]["loss/recon"], plain_losses["loss/recon"])
    assert not torch.equal(small_losses["loss/recon"], plain_losses["loss/recon"])
    for bad, message in [
        ({"init_std": 0.0}, "init_std is a standard deviation"),
        ({"gen_optimizer": "global"}, "gen_optimizer must be"),
        ({"gen_optimizer": "shared", "update": "joint"}, "needs update: phased"),
        ({"gen_optimizer": "shared", "update": "phased", "gen_lr": 0.01}, "cannot go with gen_optimizer: shared"),
        ({"adam_beta1": 1.0}, "adam_beta1 must be"),
        ({"adam_beta1": 0.1, "optimizer": "sgd"}, "needs optimizer: adam"),
        ({"optimizer": "rmsprop"}, "optimizer must be"),
        ({"momentum": 1.0}, "momentum must be"),
        ({"disc_noise": -0.1}, "cannot be negative"),
        ({"style_disc_noise": -0.1}, "style_disc_noise is a standard deviation"),
        ({"input_noise": -0.1}, "input_noise is a standard deviation"),
        ({"recon_loss": "l1"}, "recon_loss must be"),
        ({"gen_lr": 0.1, "update": "joint"}, "needs update: phased"),
        ({"lr_decay": 0.0}, "lr_decay must be"),
        ({"lr_decay": 1.5}, "lr_decay must be"),
    ]:
        with pytest.raises(ValueError, match=message):
            cls(shape, torch.Generator(), **bad)


def aae_first_step(x, update, **options):
    """A tiny AAE (4 clusters, 2-d style, 16 units), seeded, after one training step on x at adv_weight 1."""
    torch.manual_seed(0)
    method = get_method("aae")(tuple(x.shape[1:]), torch.Generator().manual_seed(0), clusters=4, style_dim=2, hidden=16, update=update, **options)
    return method, method.train_step(x, {"adv_weight": torch.tensor(1.0)})


def test_aae_cluster_invariance_weight_asks_the_cluster_head_to_survive_small_affine_changes(tiny_sprites):
    # 0 (the default) draws nothing and leaves both updates as before, to the bit; w > 0 adds w * KL(q(y|x) || q(y|T(x)))
    # to the step that imposes the priors, with the clean posterior held fixed
    cls = get_method("aae")
    shape, x = tiny_sprites.train.image_shape, tiny_sprites.train.images[:16]

    for update in ("phased", "joint"):
        plain_method, plain = aae_first_step(x, update)
        zero_method, zero = aae_first_step(x, update, cluster_invariance_weight=0.0)
        assert torch.equal(plain["loss/total"], zero["loss/total"]) and "loss/cluster_invariance" not in zero
        assert torch.equal(plain_method.generator.get_state(), zero_method.generator.get_state())  # nothing drawn
        assert torch.equal(plain_method.cluster_head.weight, zero_method.cluster_head.weight)
        method, on = aae_first_step(x, update, cluster_invariance_weight=2.0)
        assert float(on["loss/cluster_invariance"]) > 0
        assert torch.allclose(on["loss/total"], plain["loss/total"] + 2.0 * on["loss/cluster_invariance"], atol=1e-5)
        assert not torch.equal(method.cluster_head.weight, plain_method.cluster_head.weight)
        assert torch.equal(method.style_head.weight.grad, plain_method.style_head.weight.grad)  # y is asked, z is not
    # the term itself: zero for a head that ignores the image, positive once the moved images read differently
    method = cls(shape, torch.Generator().manual_seed(0), clusters=4, style_dim=2, hidden=16)
    with torch.no_grad():
        method.cluster_head.weight.zero_()
        flat = method._codes(x)[0]
        assert float(method._invariance(flat, x)) < 1e-6
        method.cluster_head.weight.normal_(std=3.0)
        assert float(method._invariance(method._codes(x)[0], x)) > 1e-3
    for bad in (-1.0, "yes", True):
        with pytest.raises(ValueError, match="cluster_invariance_weight weighs"):
            cls(shape, torch.Generator(), cluster_invariance_weight=bad)


def test_aae_cluster_invariance_strength_widens_the_changes_the_clusters_must_survive(tiny_sprites):
    from trainables.methods.base import random_affine
    cls = get_method("aae")
    shape, x = tiny_sprites.train.image_shape, tiny_sprites.train.images[:16]

    def term(**options):
        torch.manual_seed(0)
        method = cls(shape, torch.Generator().manual_seed(0), clusters=4, style_dim=2, hidden=16,
                     cluster_invariance_weight=1.0, **options)
        with torch.no_grad():
            method.cluster_head.weight.normal_(generator=torch.Generator().manual_seed(1), std=3.0)
            y = method._codes(x)[0]
            moved = method._invariance(y, x)
        return method, y, moved

    method, y, default = term()
    _, _, one = term(cluster_invariance_strength=1.0)
    assert torch.equal(default, one)  # 1 is the default, to the bit
    method, y, wide = term(cluster_invariance_strength=2.0)
    # strength 2 draws T from twice the ranges: 30 degrees, a shear of 0.6, 20% in size
    with torch.no_grad():
        widened = random_affine(x, torch.Generator().manual_seed(0), degrees=30.0, shear=0.6, scale=0.2)
        logits = torch.log_softmax(method.cluster_head(method.trunk(widened)), dim=1)
    expected = (y * (torch.log(y.clamp_min(1e-12)) - logits)).sum(dim=1).mean()
    assert torch.allclose(wide, expected, atol=1e-6) and not torch.allclose(wide, default)
    for bad in (0.0, -1.0, 5.0, "wide", True):
        with pytest.raises(ValueError, match="cluster_invariance_strength scales"):
            cls(shape, torch.Generator(), cluster_invariance_weight=1.0, cluster_invariance_strength=bad)
    with pytest.raises(ValueError, match="needs cluster_invariance_weight > 0"):
        cls(shape, torch.Generator(), cluster_invariance_strength=2.0)


def test_aae_cluster_information_weight_asks_for_confident_clusters_of_even_size(tiny_sprites):
    # 0 (the default) leaves both updates as before, to the bit; w > 0 subtracts w * I(x; y) = H(mean q) - mean H(q)
    # of the batch in the step that imposes the priors, beside the invariance term when that is on too
    from trainables.methods.hybrid import entropy
    cls = get_method("aae")
    shape, x = tiny_sprites.train.image_shape, tiny_sprites.train.images[:16]

    for update in ("phased", "joint"):
        plain_method, plain = aae_first_step(x, update)
        _, zero = aae_first_step(x, update, cluster_information_weight=0.0)
        assert torch.equal(plain["loss/total"], zero["loss/total"]) and "loss/cluster_information" not in zero
        method, on = aae_first_step(x, update, cluster_information_weight=3.0)
        torch.manual_seed(0)
        fresh = cls(shape, torch.Generator().manual_seed(0), clusters=4, style_dim=2, hidden=16, update=update)
        with torch.no_grad():
            y = fresh._codes(x)[0]
        expected = entropy(y.mean(dim=0)) - entropy(y).mean()
        assert 0 < float(on["loss/cluster_information"]) <= math.log(4)
        if update == "joint":  # the term is computed on the step's own codes, before any update
            assert torch.allclose(on["loss/cluster_information"], expected, atol=1e-6)
        assert torch.allclose(on["loss/total"], plain["loss/total"] - 3.0 * on["loss/cluster_information"], atol=1e-5)
        assert not torch.equal(method.cluster_head.weight, plain_method.cluster_head.weight)
        assert torch.equal(method.style_head.weight.grad, plain_method.style_head.weight.grad)  # only y is asked
        _, both = aae_first_step(x, update, cluster_information_weight=3.0, cluster_invariance_weight=2.0)
        assert torch.allclose(both["loss/total"], plain["loss/total"] - 3.0 * both["loss/cluster_information"]
                              + 2.0 * both["loss/cluster_invariance"], atol=1e-5)
    for bad in (-0.5, "much", True, None):
        with pytest.raises(ValueError, match="cluster_information_weight weighs"):
            cls(shape, torch.Generator(), cluster_information_weight=bad)


def test_aae_aux_clusters_adds_an_over_clustering_head_trained_by_the_cluster_terms_alone(tiny_sprites):
    # 0 (the default) makes no head and leaves both updates as before, to the bit; K > 0 adds a K-way head on the
    # trunk whose information and invariance terms join the main head's at the same weights, asked about the same
    # T(x); the main head, the style code and the decoder start from the same weights as without it
    from trainables.methods.hybrid import entropy
    cls = get_method("aae")
    shape, x = tiny_sprites.train.image_shape, tiny_sprites.train.images[:16]
    terms = {"cluster_information_weight": 3.0, "cluster_invariance_weight": 2.0}

    for update in ("phased", "joint"):
        without_method, without = aae_first_step(x, update, **terms)
        _, zero = aae_first_step(x, update, aux_clusters=0, **terms)
        assert torch.equal(without["loss/total"], zero["loss/total"]) and "loss/aux_cluster_information" not in zero
        torch.manual_seed(0)
        fresh = cls(shape, torch.Generator().manual_seed(0), clusters=4, style_dim=2, hidden=16, update=update,
                    aux_clusters=7, **terms)
        assert fresh.aux_head.out_features == 7
        with torch.no_grad():
            aux = torch.softmax(fresh.aux_head(fresh.trunk(x)), dim=1)
        method, on = aae_first_step(x, update, aux_clusters=7, **terms)
        assert 0 < float(on["loss/aux_cluster_information"]) <= math.log(7)
        assert float(on["loss/aux_cluster_invariance"]) > 0
        if update == "joint":  # the terms are computed on the step's own features, before any update
            assert torch.allclose(on["loss/aux_cluster_information"], entropy(aux.mean(dim=0)) - entropy(aux).mean(), atol=1e-6)
            assert torch.allclose(on["loss/cluster_information"], without["loss/cluster_information"], atol=1e-6)
            assert torch.allclose(on["loss/recon"], without["loss/recon"], atol=1e-6)
        assert torch.allclose(on["loss/total"], on["loss/recon"] + on["loss/gen"] - 3.0 * (on["loss/cluster_information"]
                              + on["loss/aux_cluster_information"]) + 2.0 * (on["loss/cluster_invariance"]
                              + on["loss/aux_cluster_invariance"]), atol=1e-5)
        assert method.aux_head.weight.grad is not None and float(method.aux_head.weight.grad.abs().sum()) > 0
        assert not torch.equal(method.trunk[1][0].weight.grad, without_method.trunk[1][0].weight.grad)  # it shapes the trunk
    torch.manual_seed(0)
    plain = cls(shape, torch.Generator().manual_seed(0), clusters=4, style_dim=2, hidden=16, **terms)
    torch.manual_seed(0)
    with_aux = cls(shape, torch.Generator().manual_seed(0), clusters=4, style_dim=2, hidden=16, aux_clusters=7, **terms)
    for name in ("trunk", "cluster_head", "style_head", "decoder", "disc_cat", "disc_gauss"):
        for a, b in zip(getattr(plain, name).parameters(), getattr(with_aux, name).parameters()):
            assert torch.equal(a, b)
    for bad in (-1, 1, 2.5, "many", True, None):
        with pytest.raises(ValueError, match="aux_clusters is the size"):
            cls(shape, torch.Generator(), cluster_information_weight=1.0, aux_clusters=bad)
    with pytest.raises(ValueError, match="needs cluster_information_weight > 0"):
        cls(shape, torch.Generator(), cluster_invariance_weight=1.0, aux_clusters=8)


def test_aae_cluster_balance_weighs_the_information_terms_push_toward_equal_sizes(tiny_sprites):
    # 1 (the default) is I(x; y) to the bit; lambda makes the term lambda * H(mean q) - mean H(q), on the aux head too
    from trainables.methods.hybrid import entropy
    cls = get_method("aae")
    shape, x = tiny_sprites.train.image_shape, tiny_sprites.train.images[:16]
    terms = {"cluster_information_weight": 3.0, "aux_clusters": 5}
    _, default = aae_first_step(x, "joint", **terms)
    _, one = aae_first_step(x, "joint", cluster_balance=1.0, **terms)
    assert torch.equal(default["loss/total"], one["loss/total"])
    torch.manual_seed(0)
    fresh = cls(shape, torch.Generator().manual_seed(0), clusters=4, style_dim=2, hidden=16, update="joint", **terms)
    with torch.no_grad():
        hidden = fresh.trunk(x)
        y, aux = torch.softmax(fresh.cluster_head(hidden), dim=1), torch.softmax(fresh.aux_head(hidden), dim=1)
    for balance in (0.0, 0.5, 2.0):
        _, on = aae_first_step(x, "joint", cluster_balance=balance, **terms)
        expected = balance * entropy(y.mean(dim=0)) - entropy(y).mean()
        assert torch.allclose(on["loss/cluster_information"], expected, atol=1e-6)
        expected_aux = balance * entropy(aux.mean(dim=0)) - entropy(aux).mean()
        assert torch.allclose(on["loss/aux_cluster_information"], expected_aux, atol=1e-6)
    _, none = aae_first_step(x, "joint", cluster_balance=0.0, **terms)
    assert float(none["loss/cluster_information"]) <= 0  # only the (negative) mean entropy is left
    for bad in (-0.5, 4.5, "even", True, None):
        with pytest.raises(ValueError, match="cluster_balance weighs"):
            cls(shape, torch.Generator(), cluster_information_weight=1.0, cluster_balance=bad)
    with pytest.raises(ValueError, match="needs cluster_information_weight > 0"):
        cls(shape, torch.Generator(), cluster_balance=0.5)


def test_aae_trunk_conv_puts_convolutions_before_the_trunks_last_layer(tiny_sprites):
    # mlp (the default) is the paper's trunk, to the bit; conv replaces its first two layers by two stride-2
    # convolutions for any image size (odd sides round down) and trains through the same step
    cls = get_method("aae")
    x = tiny_sprites.train.images[:16]
    for update in ("joint", "phased"):
        _, default = aae_first_step(x, update)
        _, mlp_ = aae_first_step(x, update, trunk="mlp")
        assert torch.equal(default["loss/total"], mlp_["loss/total"])
    for shape in ((1, 28, 28), (1, 8, 8), (3, 7, 9)):
        method = cls(shape, torch.Generator().manual_seed(0), clusters=4, style_dim=2, hidden=16, trunk="conv")
        assert any(isinstance(layer, torch.nn.Conv2d) for layer in method.trunk.modules())
        images = torch.rand(5, *shape, generator=torch.Generator().manual_seed(1))
        assert method.trunk(images).shape == (5, 16)
        assert method.encode(images).probs.shape == (5, 4)
    method, first = aae_first_step(x, "phased", trunk="conv", cluster_invariance_weight=0.5, cluster_information_weight=1.0)
    before = [p.detach().clone() for p in method.trunk.parameters()]
    for _ in range(3):
        report = method.train_step(x, {"adv_weight": torch.tensor(1.0)})
    assert all(torch.isfinite(v).all() for v in report.values())
    assert all(not torch.equal(b, p) for b, p in zip(before, method.trunk.parameters()))
    assert float(report["loss/recon"]) < float(first["loss/recon"])
    for bad in ("cnn", "", None, 1):
        with pytest.raises(ValueError, match="trunk must be 'mlp'"):
            cls(tiny_sprites.train.image_shape, torch.Generator(), trunk=bad)


def test_aae_lr_decay_lowers_every_rate_after_each_epoch(tiny_sprites):
    cls = get_method("aae")
    shape = tiny_sprites.train.image_shape
    constant = cls(shape, torch.Generator().manual_seed(0), clusters=4, style_dim=2, hidden=16, update="phased", lr=1e-3)
    decayed = cls(shape, torch.Generator().manual_seed(0), clusters=4, style_dim=2, hidden=16, update="phased", lr=1e-3, lr_decay=0.5)
    assert not constant.schedulers
    for _ in range(2):
        constant.end_epoch()
        decayed.end_epoch()
    assert constant.optimizers["recon"].param_groups[0]["lr"] == 1e-3
    assert set(decayed.schedulers) == {"recon", "disc", "gen"}
    for optimizer in decayed.optimizers.values():
        assert optimizer.param_groups[0]["lr"] == pytest.approx(optimizer.param_groups[0]["initial_lr"] * 0.25)


def test_ame_ae_discriminator_is_the_classifier_after_the_shared_encoder(tiny_sprites):
    method = get_method("ame_ae")(tiny_sprites.train.image_shape, torch.Generator().manual_seed(0), latent_dim=8, classifier_hidden=16)
    x = tiny_sprites.train.images[:4]
    assert torch.equal(method.discriminate(x), method.classifier(method.encoder(x)))

    def optimised(name):
        return {id(p) for group in method.optimizers[name].param_groups for p in group["params"]}

    encoder = {id(p) for p in method.encoder.parameters()}
    assert encoder <= optimised("encoder_classifier") and not encoder & optimised("decoder")


def test_infoae_recovers_the_generators_condition_from_its_images(tiny_sprites):
    # C_le: the classifier, after the encoder, names the condition c behind a generated image;
    # it falls once the classification terms weigh enough (alpha 10; the balance is the
    # paper's "highly sensitive" point)
    torch.manual_seed(0)
    cls = get_method("infoae")
    method = cls(tiny_sprites.train.image_shape, torch.Generator().manual_seed(0), latent_dim=8, hidden=32, lr=1e-3)
    weights = {"alpha": torch.tensor(10.0), "beta": torch.tensor(1.0), "gamma": torch.tensor(0.4)}
    x = tiny_sprites.train.images[:32]
    losses = [method.train_step(x, weights)["loss/class_encoded"].item() for _ in range(300)]
    assert losses[0] > 2.0 and sum(losses[-10:]) / 10 < 0.5  # from log 10 to a confident classifier
    encoding = method.encode(x)
    assert encoding.probs.shape == (32, 10) and torch.allclose(encoding.probs.sum(1), torch.ones(32))
    with pytest.raises(ValueError, match="divisible by 4"):
        cls((1, 30, 30), torch.Generator())


@pytest.mark.parametrize("batch_norm, encoder_rows, discriminator_rows", [("separate", [32, 32, 32], [32, 32, 32, 32]), ("joint", [32, 64], [64, 64])])
def test_infoae_batch_norm_sees_real_and_generated_images_together_when_joint(tiny_sprites, batch_norm, encoder_rows, discriminator_rows):
    # joint: E and Di run once on real and generated images concatenated, so their batch norms
    # normalise both kinds with one set of statistics (the mixture evaluation's running statistics hold)
    cls = get_method("infoae")
    method = cls(tiny_sprites.train.image_shape, torch.Generator().manual_seed(0), latent_dim=8, hidden=32, batch_norm=batch_norm)
    seen: dict[str, list[int]] = {"encoder": [], "discriminator": []}
    for name in seen:
        getattr(method, name).register_forward_hook(lambda module, args, out, name=name: seen[name].append(args[0].shape[0]))
    metrics = method.train_step(tiny_sprites.train.images[:32], {w.name: torch.tensor(w.default) for w in cls.weights})
    assert seen == {"encoder": encoder_rows, "discriminator": discriminator_rows}
    assert metrics["disc_acc/adv"] == pytest.approx(0.5 * (metrics["disc_acc/image"] + metrics["disc_acc/pair"]))
    with pytest.raises(ValueError, match="batch_norm must be"):
        cls(tiny_sprites.train.image_shape, torch.Generator(), batch_norm="both")


def test_infoae_self_critic_on_codes_ignores_the_image(tiny_sprites):
    cls = get_method("infoae")
    shape = tiny_sprites.train.image_shape
    on_codes = cls(shape, torch.Generator().manual_seed(0), latent_dim=8, hidden=32, critic_sees_image=False)
    pairs = cls(shape, torch.Generator().manual_seed(0), latent_dim=8, hidden=32)
    z, x = torch.randn(4, 8), tiny_sprites.train.images[:4]
    assert torch.equal(on_codes.critic(z, x), on_codes.critic(z, torch.zeros_like(x)))
    assert not torch.equal(pairs.critic(z, x), pairs.critic(z, torch.zeros_like(x)))
    assert not any(isinstance(m, torch.nn.Conv2d) for m in on_codes.critic.modules())


def test_infoae_conv_widths_and_critic_rate(tiny_sprites):
    # conv_widths sets the channels of E, Di, S and (mirrored) D; critic_lr gives Di and S their own Adam rate
    cls = get_method("infoae")
    shape = tiny_sprites.train.image_shape
    method = cls(shape, torch.Generator().manual_seed(0), latent_dim=8, hidden=32, lr=1e-3, critic_lr=2e-4, conv_widths=[8, 16])
    for network in (method.encoder, method.discriminator, method.critic):
        assert [m.out_channels for m in network.modules() if isinstance(m, torch.nn.Conv2d)] == [8, 16]
    assert [m.in_channels for m in method.decoder.modules() if isinstance(m, torch.nn.ConvTranspose2d)][0] == 16
    assert [g["lr"] for g in method.optimizers["main"].param_groups] == [1e-3]
    assert [g["lr"] for g in method.optimizers["critics"].param_groups] == [2e-4]
    same_rate = cls(shape, torch.Generator().manual_seed(0), latent_dim=8, hidden=32, lr=1e-3)
    assert [g["lr"] for g in same_rate.optimizers["critics"].param_groups] == [1e-3]  # the paper's one rate
    metrics = method.train_step(tiny_sprites.train.images[:16], {w.name: torch.tensor(w.default) for w in cls.weights})
    assert torch.isfinite(metrics["loss/total"])
    for bad in ([8], [8, 0], [8, 16, 32]):
        with pytest.raises(ValueError, match="conv_widths must be"):
            cls(shape, torch.Generator(), conv_widths=bad)


def infoae_first_step(data, **options):
    """A fresh small InfoAE (seeded) and the losses of its first train_step on 16 images, at the paper's weights."""
    cls = get_method("infoae")
    torch.manual_seed(0)
    method = cls(data.image_shape, torch.Generator().manual_seed(0), latent_dim=8, hidden=32, **options)
    return method, method.train_step(data.images[:16], {w.name: torch.tensor(w.default) for w in cls.weights})


def test_infoae_critic_noise(tiny_sprites):
    cls = get_method("infoae")
    plain, zero, noisy = (infoae_first_step(tiny_sprites.train, **options)[1] for options in ({}, {"critic_noise": 0.0}, {"critic_noise": 0.3}))
    assert torch.equal(plain["loss/disc"], zero["loss/disc"])  # 0 is the paper's InfoAE, to the bit
    assert not torch.equal(plain["loss/disc"], noisy["loss/disc"])  # Di and S see other inputs
    with pytest.raises(ValueError, match="cannot be negative"):
        cls(tiny_sprites.train.image_shape, torch.Generator(), critic_noise=-1.0)


def test_infoae_critic_players_both_lets_the_self_critic_train_the_generator(tiny_sprites):
    # eq. (2): G minimises S_l too. With S on codes alone the new term reaches G and nothing else:
    # E's gradient is the same in both modes, G's is not; `encoder` is the behaviour before the option
    cls = get_method("infoae")

    def first_step(**options):
        return infoae_first_step(tiny_sprites.train, critic_sees_image=False, **options)

    plain, plain_losses = first_step()
    encoder, encoder_losses = first_step(critic_players="encoder")
    both, both_losses = first_step(critic_players="both")
    assert torch.equal(plain_losses["loss/total"], encoder_losses["loss/total"])
    assert float(both_losses["loss/adversarial"]) > float(encoder_losses["loss/adversarial"])
    assert torch.equal(both.encoder[-1].weight.grad, encoder.encoder[-1].weight.grad)
    assert not torch.allclose(both.code_generator[0].weight.grad, encoder.code_generator[0].weight.grad)
    with pytest.raises(ValueError, match="critic_players must be"):
        cls(tiny_sprites.train.image_shape, torch.Generator(), critic_players="generator")


def test_infoae_diversity_weight_adds_the_mode_seeking_term_on_the_generators_codes(tiny_sprites):
    # 0 (the default) draws no second noise and leaves the step as before, to the bit; a weight adds
    # weight / spread, with spread the codes' distance over the noises' for the same conditions, to G's loss
    cls = get_method("infoae")
    x = tiny_sprites.train.images[:16]
    weights = {w.name: torch.tensor(w.default) for w in cls.weights}

    def first_step(**options):
        return infoae_first_step(tiny_sprites.train, **options)

    _, plain = first_step()
    _, zero = first_step(diversity_weight=0.0)
    assert torch.equal(plain["loss/total"], zero["loss/total"]) and "loss/mode_seeking" not in zero
    seeking, losses = first_step(diversity_weight=2.0)
    assert float(losses["loss/mode_seeking"]) > 0
    assert torch.allclose(losses["loss/total"], plain["loss/total"] + 2.0 * losses["loss/mode_seeking"])
    # a generator that ignores its noise scores a huge term: 1 / (0 + 1e-5)
    ignoring = cls(tiny_sprites.train.image_shape, torch.Generator().manual_seed(0), latent_dim=8, hidden=32, diversity_weight=1.0)
    with torch.no_grad():
        ignoring.code_generator[0].weight[:, :100] = 0
    assert float(ignoring.train_step(x, weights)["loss/mode_seeking"]) > 1e4
    with pytest.raises(ValueError, match="diversity_weight must be"):
        cls(tiny_sprites.train.image_shape, torch.Generator(), diversity_weight=-1.0)


def test_infoae_disc_batch_std_lets_the_image_critic_see_a_batchs_spread(tiny_sprites):
    # off (the default) leaves the step as before, to the bit; on, Di scores an image differently when its
    # batch holds copies of it than when the batch varies, which a per-image critic cannot
    cls = get_method("infoae")
    _, plain = infoae_first_step(tiny_sprites.train)
    _, off = infoae_first_step(tiny_sprites.train, disc_batch_std=False)
    assert torch.equal(plain["loss/total"], off["loss/total"])
    method, on = infoae_first_step(tiny_sprites.train, disc_batch_std=True)
    assert torch.isfinite(on["loss/total"]) and not torch.equal(on["loss/disc"], plain["loss/disc"])
    method.eval()
    images = tiny_sprites.train.images[:8]
    varied = method.discriminator(images)[0]
    copies = method.discriminator(images[:1].expand_as(images).contiguous())[0]
    assert not torch.allclose(varied, copies)
    for bad, match in (({"disc_batch_std": "yes"}, "true or false"), ({"disc_batch_std": True, "batch_norm": "joint"}, "needs batch_norm")):
        with pytest.raises(ValueError, match=match):
            cls(tiny_sprites.train.image_shape, torch.Generator(), **bad)


def test_infoae_diversity_space_image_measures_the_decoded_images(tiny_sprites):
    # MSGAN's own form: the same term on the images D draws from the two codes, so it reaches D as well as G;
    # on codes D's gradient holds no part of it (D's gradient is that of the step without the term)
    cls = get_method("infoae")
    plain, _ = infoae_first_step(tiny_sprites.train)
    on_codes, code_losses = infoae_first_step(tiny_sprites.train, diversity_weight=1.0)
    on_images, image_losses = infoae_first_step(tiny_sprites.train, diversity_weight=1.0, diversity_space="image")
    assert torch.allclose(on_codes.decoder[-1].weight.grad, plain.decoder[-1].weight.grad)
    assert not torch.allclose(on_images.decoder[-1].weight.grad, plain.decoder[-1].weight.grad)
    assert not torch.allclose(code_losses["loss/mode_seeking"], image_losses["loss/mode_seeking"])
    with pytest.raises(ValueError, match="diversity_space must be"):
        cls(tiny_sprites.train.image_shape, torch.Generator(), diversity_space="pixels")
    with pytest.raises(ValueError, match="no effect without a mode-seeking term"):
        cls(tiny_sprites.train.image_shape, torch.Generator(), diversity_space="image")


def test_infoae_continuous_codes_are_read_back_by_the_classifier(tiny_sprites):
    # 0 (the default) leaves the step as before, to the bit; k > 0 makes the first k noise inputs InfoGAN's
    # continuous codes: C's last k outputs estimate them from z_g (half the squared error, summed over the codes)
    # while the condition's probabilities stay those of the categories alone
    cls = get_method("infoae")
    _, plain = infoae_first_step(tiny_sprites.train)
    _, zero = infoae_first_step(tiny_sprites.train, continuous_codes=0)
    assert torch.equal(plain["loss/total"], zero["loss/total"]) and "loss/continuous_generated" not in zero
    method = cls(tiny_sprites.train.image_shape, torch.Generator().manual_seed(0), latent_dim=8, hidden=32, continuous_codes=3)
    replay = torch.Generator().set_state(method.generator.get_state())
    noise = torch.rand((16, 100), generator=replay) * 2 - 1  # the draws of _condition, replayed
    labels = torch.randint(10, (16,), generator=replay)
    with torch.no_grad():
        estimates = method.classifier(method._generate(noise, labels))
    expected = 0.5 * (estimates[:, 10:] - noise[:, :3]).square().sum(dim=1).mean()
    losses = method.train_step(tiny_sprites.train.images[:16], {w.name: torch.tensor(w.default) for w in cls.weights})
    assert torch.allclose(losses["loss/continuous_generated"], expected)
    assert float(losses["loss/continuous_encoded"]) > 0
    assert method.classifier[-1].weight.grad[10:].abs().sum() > 0  # C learns to estimate them
    encoding = method.encode(tiny_sprites.train.images[:8])
    assert encoding.probs.shape == (8, 10) and torch.allclose(encoding.probs.sum(1), torch.ones(8))
    assert torch.equal(method.condition_logits(encoding.code), method.classifier(encoding.code)[:, :10])
    for bad in (-1, 100, 1.5, True):
        with pytest.raises(ValueError, match="continuous_codes is how many"):
            cls(tiny_sprites.train.image_shape, torch.Generator(), continuous_codes=bad)


def test_infoae_noise_scale_shrinks_the_noise_the_generator_sees(tiny_sprites):
    # 1 (the default) leaves the step as before, to the bit; a scale s feeds G s * noise beside the one-hot
    # condition at full scale, so G's codes are those of a G whose noise weights are s times as large
    cls = get_method("infoae")
    _, plain = infoae_first_step(tiny_sprites.train)
    _, one = infoae_first_step(tiny_sprites.train, noise_scale=1.0)
    assert torch.equal(plain["loss/total"], one["loss/total"])
    small = cls(tiny_sprites.train.image_shape, torch.Generator().manual_seed(0), latent_dim=8, hidden=32, noise_scale=0.1)
    noise, labels = torch.rand(16, 100) * 2 - 1, torch.randint(10, (16,))
    with torch.no_grad():
        codes = small._generate(noise, labels)
        small.code_generator[0].weight[:, :100] *= 0.1
        small.noise_scale = 1.0
        assert torch.allclose(codes, small._generate(noise, labels), atol=1e-6)
    for bad in (0, -0.1, "small", True):
        with pytest.raises(ValueError, match="noise_scale multiplies"):
            cls(tiny_sprites.train.image_shape, torch.Generator(), noise_scale=bad)


def test_infoae_cluster_information_weight_maximises_real_images_information(tiny_sprites):
    # 0 (the default) leaves the step as before, to the bit; w > 0 subtracts w * I(x; y) of the batch's real images
    # and C's clusters, H(mean p(y|x)) - mean H(p(y|x)), from the total, and its gradient reaches C and E
    cls = get_method("infoae")
    plain_method, plain = infoae_first_step(tiny_sprites.train)
    _, zero = infoae_first_step(tiny_sprites.train, cluster_information_weight=0.0)
    assert torch.equal(plain["loss/total"], zero["loss/total"]) and "loss/cluster_information" not in zero
    torch.manual_seed(0)
    fresh = cls(tiny_sprites.train.image_shape, torch.Generator().manual_seed(0), latent_dim=8, hidden=32)
    images = tiny_sprites.train.images[:16]
    with torch.no_grad():
        probs = torch.softmax(fresh.condition_logits(fresh.encoder(images)), dim=1)
    marginal = probs.mean(dim=0)
    expected = -(marginal * marginal.log()).sum() + (probs * probs.log()).sum(dim=1).mean()
    method, on = infoae_first_step(tiny_sprites.train, cluster_information_weight=2.0)
    assert torch.allclose(on["loss/cluster_information"], expected, atol=1e-5)
    assert 0 < float(expected) < math.log(10)
    assert torch.allclose(on["loss/total"], plain["loss/total"] - 2.0 * expected, atol=1e-5)
    assert not torch.allclose(method.classifier[-1].weight.grad, plain_method.classifier[-1].weight.grad)
    assert not torch.allclose(method.encoder[-1].weight.grad, plain_method.encoder[-1].weight.grad)
    for bad in (-0.5, "much", True, float("nan")):
        with pytest.raises(ValueError, match="cluster_information_weight weighs"):
            cls(tiny_sprites.train.image_shape, torch.Generator(), cluster_information_weight=bad)


def test_random_affine_is_the_identity_at_zero_and_slants_by_the_shear():
    from trainables.methods.base import random_affine

    image = torch.zeros(1, 1, 28, 28)
    image[0, 0, 4:24, 13:15] = 1  # an upright bar
    images = image.repeat(6, 1, 1, 1)
    still = random_affine(images, torch.Generator().manual_seed(0), degrees=0.0, shear=0.0, scale=0.0)
    assert torch.allclose(still, images, atol=1e-5)
    slanted = random_affine(images, torch.Generator().manual_seed(0), degrees=0.0, shear=0.3, scale=0.0)
    again = random_affine(images, torch.Generator().manual_seed(0), degrees=0.0, shear=0.3, scale=0.0)
    assert torch.equal(slanted, again) and slanted.shape == images.shape and slanted.dtype == images.dtype
    rows, cols = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    mass = slanted[:, 0].flatten(1)
    y, x = rows.flatten(), cols.flatten()
    cy, cx = (mass * y).sum(1) / mass.sum(1), (mass * x).sum(1) / mass.sum(1)
    slant = (mass * (x - cx[:, None]) * (y - cy[:, None])).sum(1) / (mass * (y - cy[:, None]) ** 2).sum(1)
    assert slant.abs().max() <= 0.3 + 0.02 and slant.std() > 0.05  # each image its own slant, within the bound
    assert torch.allclose(mass.sum(1), images.flatten(1).sum(1), rtol=0.05)  # a shear keeps the ink


def test_infoae_cluster_invariance_weight_asks_clusters_to_survive_small_affine_changes(tiny_sprites):
    # 0 (the default) draws nothing and leaves the step as before, to the bit; w > 0 adds w * KL(p(y|x) || p(y|T(x)))
    # with the clean posterior held fixed: it reaches C and E through the moved images only
    cls = get_method("infoae")
    plain_method, plain = infoae_first_step(tiny_sprites.train)
    zero_method, zero = infoae_first_step(tiny_sprites.train, cluster_invariance_weight=0.0)
    assert torch.equal(plain["loss/total"], zero["loss/total"]) and "loss/cluster_invariance" not in zero
    assert torch.equal(plain_method.generator.get_state(), zero_method.generator.get_state())  # nothing drawn
    method, on = infoae_first_step(tiny_sprites.train, cluster_invariance_weight=2.0)
    assert float(on["loss/cluster_invariance"]) > 0
    assert torch.allclose(on["loss/total"], plain["loss/total"] + 2.0 * on["loss/cluster_invariance"], atol=1e-5)
    assert not torch.allclose(method.classifier[-1].weight.grad, plain_method.classifier[-1].weight.grad)
    for bad in (-1.0, "yes", True):
        with pytest.raises(ValueError, match="cluster_invariance_weight weighs"):
            cls(tiny_sprites.train.image_shape, torch.Generator(), cluster_invariance_weight=bad)


def test_infoae_condition_affine_reads_the_condition_from_moved_generated_images(tiny_sprites):
    # false (the default) leaves the step as before, to the bit; true changes C_le alone (C_lg reads z_g, untouched)
    # and its gradient still reaches G through the moved image
    cls = get_method("infoae")
    plain_method, plain = infoae_first_step(tiny_sprites.train)
    _, off = infoae_first_step(tiny_sprites.train, condition_affine=False)
    assert torch.equal(plain["loss/total"], off["loss/total"])
    method, on = infoae_first_step(tiny_sprites.train, condition_affine=True)
    assert torch.equal(on["loss/class_generated"], plain["loss/class_generated"])
    assert not torch.equal(on["loss/class_encoded"], plain["loss/class_encoded"])
    assert method.code_generator[0].weight.grad.abs().sum() > 0
    assert not torch.allclose(method.code_generator[0].weight.grad, plain_method.code_generator[0].weight.grad)
    with pytest.raises(ValueError, match="condition_affine must be true or false"):
        cls(tiny_sprites.train.image_shape, torch.Generator(), condition_affine="yes")


def test_pixel_neighbours_are_the_nearest_other_images_whatever_the_chunk():
    from trainables.methods.base import pixel_neighbours
    images = torch.rand(23, 1, 3, 4, generator=torch.Generator().manual_seed(0))
    distances = torch.cdist(images.flatten(1), images.flatten(1))
    distances.fill_diagonal_(float("inf"))
    expected = distances.argsort(dim=1)[:, :4]
    for chunk in (1, 5, 500):
        assert torch.equal(pixel_neighbours(images, 4, chunk=chunk), expected)
    for bad in (0, 23):
        with pytest.raises(ValueError, match="k must be in"):
            pixel_neighbours(images, bad)


def test_neighbour_agreement_is_low_when_an_image_and_its_neighbour_share_a_confident_cluster():
    from trainables.methods.base import neighbour_agreement
    same, other = torch.tensor([[1.0, 0.0, 0.0]]), torch.tensor([[0.0, 1.0, 0.0]])
    soft = torch.full((1, 3), 1 / 3)
    assert float(neighbour_agreement(same, same)) == pytest.approx(0.0, abs=1e-6)
    assert float(neighbour_agreement(soft, soft)) == pytest.approx(math.log(3), rel=1e-6)
    assert float(neighbour_agreement(same, other)) > 20  # no shared cluster: -log of the floor


def test_aae_cluster_neighbour_weight_pairs_each_image_with_a_near_training_image(tiny_sprites):
    # 0 (the default) asks for no index and leaves training as before, to the bit; w > 0 adds w * SCAN's consistency
    # -log <q(y|x), q(y|n)>, n one of the image's `neighbours` nearest training images by pixel distance
    from trainables.methods.base import pixel_neighbours
    cls = get_method("aae")
    images = tiny_sprites.train.images
    x = images[:16]
    for update in ("joint", "phased"):
        _, default = aae_first_step(x, update)
        method, zero = aae_first_step(x, update, cluster_neighbour_weight=0.0)
        assert torch.equal(default["loss/total"], zero["loss/total"]) and not method.wants_batch_index
        method, on = aae_first_step(x, update, cluster_neighbour_weight=2.0)  # no index: neighbours within the batch
        assert method.wants_batch_index and float(on["loss/cluster_neighbour"]) > 0
    method = cls(tiny_sprites.train.image_shape, torch.Generator().manual_seed(0), clusters=4, style_dim=2, hidden=16,
                 cluster_neighbour_weight=1.0, neighbours=3)
    method.attach_training_images(images)
    index = torch.arange(40, 56)
    report = method.train_step(images[index], {"adv_weight": torch.tensor(1.0)}, index=index)
    assert torch.isfinite(report["loss/cluster_neighbour"])
    table = pixel_neighbours(images, 3)
    assert torch.equal(method._neighbour_table, table)
    drawn = method._neighbour_images(images[index], index)
    for row, image in zip(index, drawn):
        assert any(torch.equal(image, images[j]) for j in table[row])
    for bad in (-1.0, "much", True, None):
        with pytest.raises(ValueError, match="cluster_neighbour_weight weighs"):
            cls(tiny_sprites.train.image_shape, torch.Generator(), cluster_neighbour_weight=bad)
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="neighbours is how many"):
            cls(tiny_sprites.train.image_shape, torch.Generator(), cluster_neighbour_weight=1.0, neighbours=bad)
    with pytest.raises(ValueError, match="needs cluster_neighbour_weight > 0"):
        cls(tiny_sprites.train.image_shape, torch.Generator(), neighbours=10)
