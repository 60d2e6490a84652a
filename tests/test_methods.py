import pytest
import torch

from trainables.methods import METHODS, get_method
from trainables.methods.factor_vae import permute_dims
from trainables.networks import ConvDecoder, ConvEncoder, MLPEncoder, make_decoder, make_encoder


@pytest.mark.parametrize("shape,conv", [((1, 64, 64), True), ((1, 32, 32), True), ((1, 28, 28), False), ((1, 8, 8), False)])
def test_networks_by_shape(shape, conv):
    encoder, decoder = make_encoder(shape, 20), make_decoder(shape, 10)
    assert isinstance(encoder, ConvEncoder if conv else MLPEncoder)
    assert encoder(torch.rand(5, *shape)).shape == (5, 20)
    assert decoder(torch.rand(5, 10)).shape == (5, *shape)


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
    options = {"lr": 1e-3} | ({"disc_hidden": 64, "disc_layers": 2} if name == "factor_vae" else {})
    method = cls(tiny_sprites.train.image_shape, torch.Generator().manual_seed(0), **cls.resolve_options(options))
    weights = {w.name: torch.tensor(w.default) for w in cls.weights}
    x = tiny_sprites.train.images[:64]
    first = [method.train_step(x, weights)["loss/recon"].item() for _ in range(3)]
    later = [method.train_step(x, weights)["loss/recon"].item() for _ in range(40)]
    assert sum(later[-3:]) / 3 < 0.7 * sum(first) / 3


def test_factor_vae_reports_discriminator_accuracy(tiny_sprites):
    cls = get_method("factor_vae")
    method = cls(tiny_sprites.train.image_shape, torch.Generator().manual_seed(0), disc_hidden=32, disc_layers=2)
    terms = method.train_step(tiny_sprites.train.images[:32], {"gamma": torch.tensor(10.0)})
    assert 0.0 <= terms["disc_acc/tc"].item() <= 1.0
    assert {"loss/recon", "loss/kl", "loss/tc", "loss/disc", "loss/total"} <= set(terms)


def test_unknown_method_and_option():
    with pytest.raises(KeyError, match="unknown method"):
        get_method("nope")
    with pytest.raises(ValueError, match="no option"):
        get_method("beta_vae").resolve_options({"depth": 3})
