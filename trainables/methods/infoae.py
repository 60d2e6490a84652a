"""InfoAE: disentangled representation learning with an information-maximizing autoencoder
(Haque, Latif, Rana; seed 000).

Six networks. The encoder E maps x to a code z_e and the decoder D maps codes back to images.
The generator G maps noise z ~ U(-1, 1)^100 and a condition c ~ Cat(10) to a code z_g, which D
turns into an image x_g. The classifier C must recover c from z_g and from E(x_g) (mutual
information between condition and code). The discriminator Di tells real images from D(z_g);
the self critic S tells (x_g, z_g) pairs (real) from (x, z_e) pairs (fake), so that E encodes
data into the code distribution G learned. Total loss, eq. (1), minimised by E, D, G, C:
    T = alpha * (C_lg + C_le) + beta * (E_l + D_le + D_lg) + gamma * R_l
with R_l the per-image L2 reconstruction error, C_lg, C_le cross-entropies, and E_l, D_le, D_lg
the adversarial terms against S and Di; Di and S maximise their own losses. Clusters: C(E(x)).
The paper's best weights: alpha = 1, beta = 1, gamma = 0.4 ("highly sensitive"); Adam, lr 2e-4.

beta, the weight of the adversarial terms, can follow the mean accuracy of Di and S
(`trainables.weighting`): high accuracy means the fakes are still easy to spot, so beta goes up.
`controller_signal` picks what the controller reads: `both` (the default, that mean), `pair` (S
alone) or `image` (Di alone). In the long runs Di sat near chance while S won at 0.87-1.00, so the
mean hid the critic that never lost; `pair` lets beta rise until E's codes pass S. Measured on MNIST
(results/reproduction/infoae-adaptive-pilot): S held near its band, no detectable effect on the
clusters (+4.0 points, p = 0.17, eight seeds), a worse reconstruction in every seed.

Choices where the paper is silent: the adversarial terms use the non-saturating form
(-log Di(fake) instead of log(1 - Di(fake))), the usual remedy for vanishing gradients early
in training; Adam betas 0.5/0.999; a `latent_dim` of 32 for the code; E, Di and S are two
stride-2 convolutions (`conv_widths`, 32 and 64 channels by default; batch norm on the second, none on the first or last
layer, leaky ReLU 0.2) and a linear layer, D mirrors E with transposed convolutions, G and C
have one hidden layer of 256 units; `critic_lr` (Di and S) defaults to `lr` (the paper's one rate for all
networks; InfoGAN trains its generator 5x faster than its discriminator); S joins its image features with the code before its last
two layers; `critic_noise` (not the paper's; 0 by default) adds Gaussian noise to every input of Di and S,
images and codes, in training (instance noise, as the AAE's `disc_noise`). Images must have sides divisible by 4 (MNIST 28, dSprites 32 or 64, digits 8).
`critic_players`: who plays against S. `encoder` (the default, as before the option): only E, through
E_l, the one S term that T of eq. (1) lists. `both`: G (and D, through x_g, when S sees the image) also
minimise S_l's first term, log S(z_g, x_g), as eq. (2) reads (E, D, C, G minimise T + D_il + S_l), so G
is pushed to make its pairs look like (x, E(x)) pairs, as a BiGAN's generator is. Why it matters: with E
alone against S, nothing but Di asks G to use its noise, and every trained model here draws one image per
condition whatever the noise (results/reproduction/infoae-transfer); S compares z_g with E(x), which
spreads over every real image, so a G that plays against S must spread its codes too. The added term
(non-saturating: G's pairs labelled fake) joins the adversarial terms under beta.
`diversity_weight` (not the paper's; 0, the default, draws nothing and leaves training as before) adds the
mode-seeking term of Mao et al. (MSGAN, 2019) on G's codes: for a second draw of the noise with the same
conditions, weight / (mean |z_g - z_g'| / mean |n - n'|), which grows as G ignores its noise
(`diversity_space: image` measures the distance between the decoded images instead, MSGAN's own form, so
the term also reaches D; at weight 1 it scored 19 points below the code form, p = 0.0005, because pixel
distances are bounded and the term drove two draws of one condition as far apart as two random digits:
results/reproduction/infoae-image-diversity-pilot). Why: every trained InfoAE here puts a condition's
codes within 1-7 units of variance where E(x) spreads a digit over 60-780 (results/reproduction/infoae-transfer),
so it draws one image per condition. Measured on MNIST (results/reproduction/infoae-diversity-pilot, four
seeds, 8 epochs, held-out images): at weight 1 G uses its noise and the clusters gain 10 points
(p = 0.008); `critic_players: both` does not cure the collapse and costs 10 points
(infoae-critic-players-pilot). Both stay off by default, the paper's InfoAE.
`disc_batch_std` (not the paper's; off by default): Di's last layer also sees the batch's standard deviation
of its features (`MinibatchStd`), so a batch of generated images with less spread than real ones is easy to
tell apart and G, through D_lg, must vary its images: the critic-side cure for a collapse, where
`diversity_weight` is the generator-side one. Needs `batch_norm: separate` (one batch per kind). Measured on
MNIST (results/reproduction/infoae-batch-std-pilot, four seeds, 8 epochs): no detectable effect (+2.0 points,
p = 0.72) and G stays collapsed, because ten distinct images, one per condition, already spread a batch as
much as real digits do; off by default.
`continuous_codes` (not the paper's; 0, the default, leaves training as before): the first k of G's noise
inputs become InfoGAN's continuous codes (Chen et al. 2016 use two, U(-1, 1), beside the categorical one):
C also reads them back from z_g and from E(x_g), a Gaussian log-likelihood of fixed unit variance (half the
squared error) added to C_lg and C_le under alpha. Why: with the mode-seeking term G varies its images within
a condition, but the conditions split the digits badly (purity 59% in seed 0; a 0 split in two while 4 owns no
condition: results/reproduction/infoae-diversity-long); in InfoGAN the continuous codes take the style
(slant, width) that would otherwise compete with the digit for the categorical code. Measured on MNIST with the
mode-seeking term (results/reproduction/infoae-continuous-pilot, four seeds, 8 epochs): the images vary more and
teach real digits better, but the conditions are 12 points less pure and the clusters 3.9 points lower
(p = 0.004); off by default.
`noise_scale` (not the paper's; 1, the default, is the paper's U(-1, 1)): G sees its noise multiplied by this
factor, beside the one-hot condition at full scale (the draws and the mode-seeking term's normalisation stay the
noise's own). Why: ClusterGAN (Mukherjee et al. 2019) draws its noise with a standard deviation of 0.1 beside
a one-hot code so that the categories, not the noise, dominate G's input and stay apart in its latent space;
here 100 noise inputs of variance 1/3 stand beside one one-hot input of 1. Measured on MNIST at 0.1 with the
mode-seeking term (results/reproduction/infoae-noise-scale-pilot, four seeds, 8 epochs): no detectable effect on
the clusters (-6.3 points, p = 0.39), no purer conditions, less varied images; 1 by default.
`cluster_information_weight` (not the paper's; 0, the default, leaves training as before): E and C also maximise
the mutual information between real images and C's clusters, I(x; y) = H(mean p(y|x)) - mean H(p(y|x)) on each
batch of real images (IMAE's term, seed 001, eq. 7; IMSAT's), under this weight. Why: the paper's loss asks C only to
read G's conditions back; nothing asks C(E(x)) to use every cluster on real images, and the trained models give one
digit two clusters while another owns none (results/reproduction/infoae-continuous-pilot/anatomy-rerun.md). The term
asks for confident clusters of even size on the real images themselves. Alone it did not help (MNIST, two seeds,
8 epochs: 58.0 / 47.9% against 61.0 / 59.0%, results/reproduction/infoae-information-pilot): the clusters become
confident and even, not more digit-like.
`cluster_invariance_weight` (not the paper's; 0, the default, draws nothing and leaves training as before): C's
clusters of a real image should not change when the image is turned, slanted or resized a little
(`base.random_affine`: up to 15 degrees, a shear of 0.3, 10% in size): KL(p(y|x) || p(y|T(x))), the clean image's
posterior held fixed as VAT holds it, under this weight. Why: a condition draws a slant as much as a digit, and
the noise picks part of the digit (results/reproduction/infoae-continuous-pilot/makeup-rerun.md), so C, which
learns the conditions, can cut real digits by slant; invariance to slant is what clustering methods such as IIC
ask of their clusters. Measured on MNIST with `cluster_information_weight` 1 and the mode-seeking term (four seeds,
8 epochs, held-out images; results/reproduction/infoae-information-pilot): 80.0% against 56.5%, +23.4 points
(p = 0.043), higher in every seed; G's conditions purer in every seed (93.5% against 79.4% one digit, p = 0.073,
not detectable with four seeds). Off by default: the
paper's InfoAE has neither term.
`condition_affine` (not the paper's; false, the default, draws nothing and leaves training as before): C_le reads the
condition back from E(T(x_g)), the generated image turned, slanted and resized a little by the same
`base.random_affine`, instead of from E(x_g). Why: the same finding, attacked at G: a condition that G draws as a
slant no longer survives T, so C_le can only be met by conditions that differ in what T leaves alone (the digit).
Measured (two seeds, 8 epochs, results/reproduction/infoae-condition-affine-pilot): +6.9 points (p = 0.10), the
conditions no purer.
InfoGAN's sizes (`conv_widths: [64, 128]`, `hidden: 1024`) clustered MNIST 13 points better at epoch 4
(results/reproduction/infoae-width-pilot, four seeds) at 3-4x the cost of a step, but no better by
epoch 8 (two seeds); the defaults stay small.
"""

from __future__ import annotations

import torch
from torch import nn

from ..networks import OneChannelConvTranspose2d
from .base import Encoding, Method, WeightSpec, adam, affine_invariance, frozen, instance_noise, random_affine
from .hybrid import entropy

NOISE_DIM = 100


def _trunk(channels: int, widths: tuple[int, int]) -> nn.Sequential:
    """Two stride-2 convolutions: no batch norm on the first layer."""
    first, second = widths
    return nn.Sequential(
        nn.Conv2d(channels, first, 4, stride=2, padding=1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(first, second, 4, stride=2, padding=1),
        nn.BatchNorm2d(second),
        nn.LeakyReLU(0.2),
        nn.Flatten(),
    )


class MinibatchStd(nn.Module):
    """Appends one feature to every row: the batch's standard deviation, averaged over the features
    (Karras et al. 2018, "minibatch standard deviation"). Why: a critic that scores one image at a time
    cannot see a batch's lack of variety; with this feature it sees the batch's overall spread (the usual
    critic-side cure for mode collapse). It cannot see a collapse within each condition, when the conditions
    alone spread a batch as real images do (results/reproduction/infoae-batch-std-pilot)."""

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        spread = features.std(dim=0, unbiased=False).mean() if features.shape[0] > 1 else features.new_zeros(())
        return torch.cat([features, spread.expand(features.shape[0], 1)], dim=1)


class SelfCritic(nn.Module):
    """S(z, x): logit that the pair is (x_g, z_g) rather than (x, E(x)). With `sees_image` False, S
    judges the code alone (an option, not the paper's): a critic that can tell generated images from
    real ones wins on the image and gives E no pull towards G's codes."""

    def __init__(self, channels: int, features: int, latent_dim: int, hidden: int, sees_image: bool = True,
                 widths: tuple[int, int] = (32, 64)) -> None:
        super().__init__()
        self.trunk = _trunk(channels, widths) if sees_image else None
        width = (features if sees_image else 0) + latent_dim
        self.head = nn.Sequential(nn.Linear(width, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1))

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.head(z if self.trunk is None else torch.cat([self.trunk(x), z], dim=1))


class InfoAE(Method):
    name = "infoae"
    summary = "autoencoder + conditional code generator, classifier, image discriminator and self critic"
    weights = (
        WeightSpec("alpha", default=1.0, low=0.01, high=100.0, doc="weight of the two classification losses"),
        WeightSpec("beta", default=1.0, low=0.01, high=100.0, doc="weight of the adversarial losses (E_l, D_le, D_lg)"),
        WeightSpec("gamma", default=0.4, low=0.01, high=100.0, doc="weight of the reconstruction loss"),
    )
    adaptive = {"beta": "adv"}
    option_defaults = {"latent_dim": 32, "categories": 10, "hidden": 256, "lr": 2e-4, "critic_lr": None, "batch_norm": "separate",
                       "critic_sees_image": True, "conv_widths": [32, 64], "critic_noise": 0.0, "controller_signal": "both",
                       "critic_players": "encoder", "diversity_weight": 0.0, "diversity_space": "code",
                       "disc_batch_std": False, "continuous_codes": 0, "noise_scale": 1.0,
                       "cluster_information_weight": 0.0, "cluster_invariance_weight": 0.0,
                       "condition_affine": False}
    controller_options = ("controller_signal",)
    # controller_signal -> the train_step key (disc_acc/<key>) the adaptive beta follows
    SIGNALS = {"both": "adv", "pair": "pair", "image": "image"}

    def __init__(self, image_shape, generator, latent_dim: int = 32, categories: int = 10, hidden: int = 256, lr: float = 2e-4,
                 critic_lr: float | None = None, batch_norm: str = "separate", critic_sees_image: bool = True,
                 conv_widths: tuple[int, int] | list[int] = (32, 64), critic_noise: float = 0.0,
                 controller_signal: str = "both", critic_players: str = "encoder", diversity_weight: float = 0.0,
                 diversity_space: str = "code", disc_batch_std: bool = False, continuous_codes: int = 0,
                 noise_scale: float = 1.0, cluster_information_weight: float = 0.0, cluster_invariance_weight: float = 0.0,
                 condition_affine: bool = False) -> None:
        super().__init__(image_shape, generator)
        if not isinstance(condition_affine, bool):
            raise ValueError(f"infoae: condition_affine must be true or false, got {condition_affine!r}")
        self.condition_affine = condition_affine
        for name, value, what in (("cluster_information_weight", cluster_information_weight, "I(x; y) on real images"),
                                  ("cluster_invariance_weight", cluster_invariance_weight, "how far C's clusters move under small affine changes")):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ValueError(f"infoae: {name} weighs {what} and must be a number >= 0 (0: no such term), got {value!r}")
        self.cluster_information_weight = float(cluster_information_weight)
        self.cluster_invariance_weight = float(cluster_invariance_weight)
        if isinstance(noise_scale, bool) or not isinstance(noise_scale, (int, float)) or not noise_scale > 0:
            raise ValueError(f"infoae: noise_scale multiplies G's noise and must be a number > 0, got {noise_scale!r}")
        self.noise_scale = float(noise_scale)
        if isinstance(continuous_codes, bool) or not isinstance(continuous_codes, int) or not 0 <= continuous_codes < NOISE_DIM:
            raise ValueError(f"infoae: continuous_codes is how many of G's {NOISE_DIM} noise inputs C must read back, an integer "
                             f"from 0 to {NOISE_DIM - 1}, got {continuous_codes!r}")
        self.continuous_codes = continuous_codes
        if diversity_space not in ("code", "image"):
            raise ValueError(f"infoae: diversity_space must be 'code' (distances between G's codes) or 'image' (between the "
                             f"decoded images, MSGAN's own form), got {diversity_space!r}")
        if diversity_space == "image" and not diversity_weight:
            raise ValueError("infoae: diversity_space 'image' has no effect without a mode-seeking term: set diversity_weight > 0")
        self.diversity_space = diversity_space
        if not isinstance(disc_batch_std, bool):
            raise ValueError(f"infoae: disc_batch_std must be true or false, got {disc_batch_std!r}")
        if disc_batch_std and batch_norm == "joint":
            raise ValueError("infoae: disc_batch_std needs batch_norm 'separate': with 'joint' Di sees real and generated "
                             "images in one batch, and their spread would be measured together")
        if not diversity_weight >= 0:
            raise ValueError(f"infoae: diversity_weight must be >= 0 (0: no mode-seeking term), got {diversity_weight!r}")
        self.diversity_weight = diversity_weight
        if critic_players not in ("encoder", "both"):
            raise ValueError(f"infoae: critic_players must be 'encoder' (E alone fools S, as T of eq. 1 lists) or 'both' "
                             f"(G too, as eq. 2 reads), got {critic_players!r}")
        self.critic_players = critic_players
        if controller_signal not in self.SIGNALS:
            raise ValueError(f"infoae: controller_signal must be one of {sorted(self.SIGNALS)}, got {controller_signal!r}")
        self.adaptive = {"beta": self.SIGNALS[controller_signal]}  # the instance's signal; the class lists the default
        if critic_noise < 0:
            raise ValueError(f"infoae: critic_noise is a standard deviation and cannot be negative, got {critic_noise}")
        self.critic_noise = critic_noise
        if batch_norm not in ("separate", "joint"):
            raise ValueError(f"infoae: batch_norm must be 'separate' or 'joint', got {batch_norm!r}")
        self.batch_norm = batch_norm
        channels, height, width = self.image_shape
        if height % 4 or width % 4:
            raise ValueError(f"infoae needs image sides divisible by 4, got {height}x{width}")
        self.latent_dim, self.categories = latent_dim, categories
        if len(conv_widths) != 2 or min(conv_widths) < 1:
            raise ValueError(f"infoae: conv_widths must be two positive channel counts (the two convolutions), got {conv_widths!r}")
        widths = (int(conv_widths[0]), int(conv_widths[1]))
        grid = (widths[1], height // 4, width // 4)
        features = grid[0] * grid[1] * grid[2]
        self.encoder = nn.Sequential(_trunk(channels, widths), nn.Linear(features, latent_dim))
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, features),
            nn.BatchNorm1d(features),
            nn.ReLU(),
            nn.Unflatten(1, grid),
            nn.ConvTranspose2d(widths[1], widths[0], 4, stride=2, padding=1),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(),
            OneChannelConvTranspose2d(widths[0], channels, 4, stride=2, padding=1),
        )
        self.code_generator = nn.Sequential(nn.Linear(NOISE_DIM + categories, hidden), nn.ReLU(), nn.Linear(hidden, latent_dim))
        self.classifier = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, categories + continuous_codes))
        if disc_batch_std:
            self.discriminator = nn.Sequential(_trunk(channels, widths), MinibatchStd(), nn.Linear(features + 1, 1))
        else:
            self.discriminator = nn.Sequential(_trunk(channels, widths), nn.Linear(features, 1))
        self.critic = SelfCritic(channels, features, latent_dim, hidden, sees_image=critic_sees_image, widths=widths)
        main = [*self.encoder.parameters(), *self.decoder.parameters(), *self.code_generator.parameters(), *self.classifier.parameters()]
        critics = [*self.discriminator.parameters(), *self.critic.parameters()]
        self.optimizers["main"] = adam(main, lr=lr, betas=(0.5, 0.999))
        self.optimizers["critics"] = adam(critics, lr=lr if critic_lr is None else critic_lr, betas=(0.5, 0.999))

    def _condition(self, n: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        noise = torch.rand((n, NOISE_DIM), generator=self.generator, device=device) * 2 - 1
        labels = torch.randint(self.categories, (n,), generator=self.generator, device=device)
        return noise, labels

    def _generate(self, noise: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        onehot = nn.functional.one_hot(labels, self.categories).float()
        seen = noise if self.noise_scale == 1.0 else noise * self.noise_scale
        return self.code_generator(torch.cat([seen, onehot], dim=1))

    def condition_logits(self, code: torch.Tensor) -> torch.Tensor:
        """C's logits for the condition behind `code` (without the continuous codes' estimates)."""
        return self.classifier(code)[:, :self.categories]

    def _read_back(self, code: torch.Tensor, noise: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """C on `code`: the cross-entropy of the condition and, with `continuous_codes`, half the squared error
        of the continuous codes (the first k noise inputs; InfoGAN's Gaussian of unit variance, less its constant)."""
        out = self.classifier(code)
        categorical = nn.functional.cross_entropy(out[:, :self.categories], labels)
        if not self.continuous_codes:
            return categorical, out.new_zeros(())
        continuous = 0.5 * (out[:, self.categories:] - noise[:, :self.continuous_codes]).pow(2).sum(dim=1).mean()
        return categorical, continuous

    def _joint(self, module: nn.Module, *inputs: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        """`module` on each batch of `inputs` (tuples of its arguments): one call on their concatenation with
        `batch_norm: joint` (its batch norms then see real and generated images in one batch, as evaluation's
        running statistics do), one call per batch with `separate`."""
        if self.batch_norm == "separate":
            return tuple(module(*args) for args in inputs)
        joined = module(*(torch.cat(parts) for parts in zip(*inputs)))
        return tuple(joined.split([args[0].shape[0] for args in inputs]))

    def _seen(self, tensor: torch.Tensor) -> torch.Tensor:
        """A critic's input (image or code) as Di and S see it, with `critic_noise`."""
        return instance_noise(tensor, self.critic_noise, self.generator)

    def train_step(self, x, weights):
        bce = nn.functional.binary_cross_entropy_with_logits
        noise, labels = self._condition(x.shape[0], x.device)

        # Di and S: real images vs decoded generated codes; (x_g, z_g) pairs vs (x, E(x)) pairs
        with torch.no_grad():
            z_g = self._generate(noise, labels)
            x_g = torch.sigmoid(self.decoder(z_g))
            z_e = self.encoder(x)
        seen = self._seen
        di_real, di_fake = self._joint(self.discriminator, (seen(x),), (seen(x_g),))
        s_real, s_fake = self._joint(self.critic, (seen(z_g), seen(x_g)), (seen(z_e), seen(x)))
        critic_loss = (
            bce(di_real, torch.ones_like(di_real)) + bce(di_fake, torch.zeros_like(di_fake))
            + bce(s_real, torch.ones_like(s_real)) + bce(s_fake, torch.zeros_like(s_fake))
        )
        self.optimizers["critics"].zero_grad(set_to_none=True)
        critic_loss.backward()
        self.optimizers["critics"].step()
        image_accuracy = 0.5 * ((di_real > 0).float().mean() + (di_fake < 0).float().mean())
        pair_accuracy = 0.5 * ((s_real > 0).float().mean() + (s_fake < 0).float().mean())

        # E, D, G, C: the total loss T of eq. (1)
        z_g = self._generate(noise, labels)
        x_g = torch.sigmoid(self.decoder(z_g))
        read = random_affine(x_g, self.generator) if self.condition_affine else x_g  # what C_le reads the condition from
        z_e, z_eg = self._joint(self.encoder, (x,), (read,))
        x_r = torch.sigmoid(self.decoder(z_e))
        class_generated, continuous_generated = self._read_back(z_g, noise, labels)  # C_lg
        class_encoded, continuous_encoded = self._read_back(z_eg, noise, labels)  # C_le
        classification = class_generated + class_encoded
        extra = {}
        if self.continuous_codes:
            classification = classification + continuous_generated + continuous_encoded
            extra = {"loss/continuous_generated": continuous_generated.detach(), "loss/continuous_encoded": continuous_encoded.detach()}
        with frozen(self.critic, self.discriminator):
            fooled = [self.critic(seen(z_e), seen(x)), *self._joint(self.discriminator, (seen(x_r),), (seen(x_g),))]  # E_l, D_le, D_lg
            adversarial = sum(bce(logits, torch.ones_like(logits)) for logits in fooled)
            if self.critic_players == "both":  # G's pairs should pass for (x, E(x)) pairs: S_l's first term, eq. (2)
                generated_pairs = self.critic(seen(z_g), seen(x_g))
                adversarial = adversarial + bce(generated_pairs, torch.zeros_like(generated_pairs))
        reconstruction = (x_r - x).flatten(1).norm(dim=1).mean()
        total = weights["alpha"] * classification + weights["beta"] * adversarial + weights["gamma"] * reconstruction
        if self.diversity_weight:
            other_noise = torch.rand(noise.shape, generator=self.generator, device=noise.device) * 2 - 1
            other = self._generate(other_noise, labels)
            if self.diversity_space == "image":  # MSGAN's form: the images D draws from the two codes
                first, second = x_g.flatten(1), torch.sigmoid(self.decoder(other)).flatten(1)
            else:
                first, second = z_g, other
            spread = (first - second).abs().mean(dim=1) / (noise - other_noise).abs().mean(dim=1)
            mode_seeking = 1 / (spread.mean() + 1e-5)
            total = total + self.diversity_weight * mode_seeking
            extra["loss/mode_seeking"] = mode_seeking.detach()
        if self.cluster_information_weight or self.cluster_invariance_weight:  # C's clusters of this batch's real images
            probs = torch.softmax(self.condition_logits(z_e), dim=1)
        if self.cluster_information_weight:  # I(x; y) of real images and C's clusters, on this batch
            information = entropy(probs.mean(dim=0)) - entropy(probs).mean()
            total = total - self.cluster_information_weight * information
            extra["loss/cluster_information"] = information.detach()
        if self.cluster_invariance_weight:  # KL(p(y|x) || p(y|T(x))), the clean posterior held fixed
            invariance = affine_invariance(probs, lambda images: self.condition_logits(self.encoder(images)), x, self.generator)
            total = total + self.cluster_invariance_weight * invariance
            extra["loss/cluster_invariance"] = invariance.detach()
        self.optimizers["main"].zero_grad(set_to_none=True)
        total.backward()
        self.optimizers["main"].step()

        return {
            "loss/recon": reconstruction.detach(),
            "loss/class_generated": class_generated.detach(),
            "loss/class_encoded": class_encoded.detach(),
            "loss/adversarial": adversarial.detach(),
            "loss/disc": critic_loss.detach(),
            "loss/total": total.detach(),
            "disc_acc/adv": (0.5 * (image_accuracy + pair_accuracy)).detach(),  # the controller's signal: both critics
            "disc_acc/image": image_accuracy.detach(),  # Di: real images vs decoded generated codes
            "disc_acc/pair": pair_accuracy.detach(),  # S: (x_g, z_g) vs (x, E(x)) pairs
            **extra,
        }

    def encode(self, x):
        code = self.encoder(x)
        return Encoding(code=code, probs=torch.softmax(self.condition_logits(code), dim=1))

    def decode(self, z):
        return self.decoder(z)
