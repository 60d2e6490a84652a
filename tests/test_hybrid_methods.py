"""The IMAE family (imae, joint_vae, info_vae, beta_vae with a categorical code): the minibatch
estimators on codes with known answers, the Gumbel-softmax code, VAT, capacities, lr decay."""

import math

import pytest
import torch

from trainables.methods import get_method
from trainables.methods.hybrid import MinibatchMarginals, gumbel_softmax_sample

HYBRID = ["imae", "joint_vae", "info_vae"]


def gaussian_codes(points=1000, latents=4, noise=0.3, seed=0):
    """Posteriors N(mu_i, noise^2) whose means spread as N(0, 1 - noise^2): the aggregate is N(0, I)."""
    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(points, latents, generator=g) * math.sqrt(1 - noise**2)
    logvar = torch.full((points, latents), 2 * math.log(noise))
    return mu, logvar, mu + noise * torch.randn(points, latents, generator=g)


def test_marginal_kl_is_near_zero_when_the_aggregate_matches_the_prior_and_large_when_latents_copy_each_other():
    mu, logvar, z = gaussian_codes()
    independent = MinibatchMarginals(z, mu, logvar, None)
    assert independent.kl_z_per_latent().item() < 0.05
    assert independent.kl_z_joint().item() < 0.3
    copied_mu = mu[:, :1].expand(-1, 4).contiguous()
    copied = MinibatchMarginals(copied_mu + 0.3 * torch.randn(mu.shape, generator=torch.Generator().manual_seed(1)), copied_mu, logvar, None)
    assert copied.kl_z_per_latent().item() < 0.05  # every latent alone is still N(0, 1)
    assert copied.kl_z_joint().item() > 2.0 and copied.total_correlation().item() > 2.0


def test_categorical_terms_on_known_codes():
    mu, logvar, z = gaussian_codes()
    # y is the sign of z_0: deterministic, balanced, and fully dependent on z
    probs = torch.nn.functional.one_hot((mu[:, 0] > 0).long(), 2).float()
    marginals = MinibatchMarginals(z, mu, logvar, probs)
    assert marginals.mi_x_y().item() == pytest.approx(math.log(2), abs=0.01)
    assert marginals.kl_y_marginal().item() == pytest.approx(0.0, abs=0.01)
    assert marginals.total_correlation().item() == pytest.approx(math.log(2), abs=0.05)
    uniform = MinibatchMarginals(z, mu, logvar, torch.full((1000, 5), 0.2))
    assert uniform.mi_x_y().item() == pytest.approx(0.0, abs=1e-6)
    assert uniform.total_correlation().item() == pytest.approx(independent_tc := MinibatchMarginals(z, mu, logvar, None).total_correlation().item(), abs=1e-4)
    assert independent_tc < 0.3  # the minibatch estimator's bias on 1,000 independent 4-d codes


def test_gumbel_softmax_samples_follow_the_class_probabilities():
    probs = torch.tensor([[0.7, 0.2, 0.1]]).expand(20000, 3)
    sample = gumbel_softmax_sample(probs.log(), temperature=0.1, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(sample.sum(1), torch.ones(20000))
    frequencies = torch.bincount(sample.argmax(1), minlength=3).float() / 20000
    assert torch.allclose(frequencies, torch.tensor([0.7, 0.2, 0.1]), atol=0.015)


def make(name, tiny_sprites, **options):
    cls = get_method(name)
    return cls(tiny_sprites.train.image_shape, torch.Generator().manual_seed(0), **cls.resolve_options(options))


def test_vat_is_zero_for_a_constant_classifier_and_grows_with_the_radius(tiny_sprites):
    torch.manual_seed(0)
    method = make("imae", tiny_sprites)
    x = tiny_sprites.train.images[:32]
    probs = method.encode(x).probs
    small = method.vat_loss(x, probs).item()
    method.vat_radius = 8.0
    large = method.vat_loss(x, probs).item()
    assert 0 < small < large
    with torch.no_grad():  # a categorical head that ignores its input
        head = method.encoder.net[-1]
        head.weight[2 * method.latent_dim :] = 0
    assert method.vat_loss(x, method.encode(x).probs).item() == pytest.approx(0.0, abs=1e-7)


@pytest.mark.parametrize("name", HYBRID)
def test_codes_have_a_gaussian_part_and_cluster_probabilities(name, tiny_sprites):
    method = make(name, tiny_sprites, latent_dim=6, categories=4)
    encoding = method.encode(tiny_sprites.train.images[:8])
    assert encoding.code.shape == (8, 10) and encoding.logvar.shape == (8, 6) and encoding.probs.shape == (8, 4)
    assert torch.equal(encoding.code[:, 6:], encoding.probs)
    assert method.decode(encoding.code).shape == (8, *tiny_sprites.train.image_shape)
    with pytest.raises(ValueError, match="categorical code"):
        make(name, tiny_sprites, categories=0)


def test_beta_vae_is_continuous_unless_asked_for_a_categorical_code(tiny_sprites):
    x = tiny_sprites.train.images[:8]
    plain = make("beta_vae", tiny_sprites, latent_dim=5)
    assert plain.encode(x).probs is None and plain.encode(x).code.shape == (8, 5)
    weights = {"beta": torch.tensor(4.0), "gamma": torch.tensor(5.0)}
    assert "loss/kl_y" not in plain.train_step(x, weights)
    hybrid = make("beta_vae", tiny_sprites, latent_dim=5, categories=3)
    assert hybrid.encode(x).probs.shape == (8, 3)
    assert {"loss/kl_y", "loss/vat"} <= set(hybrid.train_step(x, weights))
    with pytest.raises(ValueError, match="categories"):
        make("beta_vae", tiny_sprites, categories=1)


def test_imae_separates_the_categories_it_maximises_information_about(tiny_sprites):
    # maximising I(x;y) drives p(y|x) confident and balanced: I(x;y) climbs from ~0 toward log K
    torch.manual_seed(0)
    method = make("imae", tiny_sprites, categories=4, optimizer="adam", lr=1e-3)
    weights = {"beta": torch.tensor(1.0), "gamma": torch.tensor(5.0)}
    x = tiny_sprites.train.images[:128]
    first = method.train_step(x, weights)["loss/mi_y"].item()
    for _ in range(150):
        last = method.train_step(x, weights)["loss/mi_y"].item()
    assert first < 0.1 and last > 0.7 * math.log(4)


def test_joint_vae_capacities_grow_linearly_and_the_categorical_one_is_capped(tiny_sprites):
    method = make("joint_vae", tiny_sprites, categories=4, capacity_z=2.0, capacity_y=5.0, capacity_steps=4)
    weights = {"beta": torch.tensor(5.0), "gamma": torch.tensor(5.0)}
    x = tiny_sprites.train.images[:16]
    seen = [method.train_step(x, weights) for _ in range(6)]
    assert [round(t["capacity/z"].item(), 3) for t in seen] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.0]
    assert seen[-1]["capacity/y"].item() == pytest.approx(math.log(4))


def test_learning_rate_decays_each_epoch(tiny_sprites):
    method = make("info_vae", tiny_sprites)
    for _ in range(3):
        method.train_step(tiny_sprites.train.images[:16], {"beta": torch.tensor(5.0), "gamma": torch.tensor(5.0)})
        method.end_epoch()
    assert method.optimizers["model"].param_groups[0]["lr"] == pytest.approx(1e-3 * 0.98**3)
    with pytest.raises(ValueError, match="optimizer"):
        make("imae", tiny_sprites, optimizer="rmsprop")
