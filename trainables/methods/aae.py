"""Adversarial Autoencoder for unsupervised clustering (Makhzani, Shlens, Jaitly, Goodfellow,
Frey, "Adversarial Autoencoders", 2015, section 6; seed 003 is a report on it).

The encoder has two heads: a softmax cluster head y over K clusters (K = `clusters`: 10, 16
or 30) and a continuous style code z. The decoder reconstructs x from (y, z). Two adversaries
impose the priors: D_cat tells y from one-hot samples of Cat(K), D_gauss tells z from N(0, I).
Each step trains the adversaries, then the autoencoder:
1. the adversaries learn to tell prior samples from the current codes;
2. `update: joint` (the default): one Adam step of encoder and decoder on
   Bernoulli NLL + `adv_weight` x the non-saturating generator loss of both adversaries.
   `update: phased`: the paper's alternation, a reconstruction step, then a separate
   regularisation step of the encoder on `adv_weight` x the generator loss alone.
Why joint is the default: in the phased form the generator loss is alone in its Adam optimizer,
and Adam divides each gradient by its own running scale, so a constant factor on that loss
cancels — `adv_weight` then changes nothing but Adam's epsilon (the weight-effect check,
`trainables.weight_effect`, finds it inert, and a spec that sweeps it is refused). Taken
together with the reconstruction, `adv_weight` is the ratio of regularisation to
reconstruction, which Adam keeps. The paper gets the same ratio from separate learning rates
of momentum SGD; the phased form keeps the alternation for such reproductions.
Under `optimizer: sgd` (momentum SGD, the paper's optimizer kind) no rate adapts to the
gradient's scale, so `adv_weight` acts in the phased form too; `gen_lr` gives the regularisation
phase its own rate (the issue on reproductions reads the paper's appendix as 10x the
reconstruction's; the paper's exact rates are not quoted here). `disc_noise` adds Gaussian noise
to every input of both adversaries in training, as musyoku/adversarial-autoencoder's clustering
model does (std 0.3 there); 0, the default, is the behaviour before the option. `lr_decay`
multiplies every rate by that factor after each epoch (1, the default, keeps them constant): the
paper lowers its rates over training, and a constant Adam rate of 1e-3 left the reconstruction
unstable late in the long runs (results/reproduction). `input_noise` corrupts the encoder's input
with Gaussian noise in training (a denoising autoencoder: the decoder still reconstructs the clean
image; evaluation encodes clean images); 0, the default, draws nothing and keeps the behaviour before
the option to the bit. It is a cause under test for the clustering gap, not a setting quoted from the
paper. `recon_loss: squared` trains on half the squared Euclidean error of the decoder's sigmoid
output per image (summed over pixels) instead of the Bernoulli NLL (`bernoulli`, the default): a
Euclidean reconstruction cost, as musyoku/adversarial-autoencoder's clustering model uses (its mean
squared error); under Adam's phased update only its shape matters, not its scale.
`gen_optimizer: shared` makes the regularisation phase step the reconstruction phase's optimizer
(the decoder, which gets no gradient there, is skipped), so the encoder keeps one set of Adam moments
for both phases, as musyoku/adversarial-autoencoder does (one optimizer per network); `own`, the
default, gives that phase an optimizer of its own, as before the option. With shared moments the
phases' gradient scales meet in one normaliser, so `adv_weight` acts in the phased form as well; with
the summed Bernoulli NLL the reconstruction's gradients then dominate that normaliser and the prior is
barely imposed (results/reproduction/aae-musyoku-pilot: -28 points of clustering at adv_weight 1).
`adam_beta1` is Adam's first-moment decay (0.5, the default, as before; musyoku uses 0.1).
`init_std` draws every linear layer's weights from N(0, init_std^2) with zero biases, as musyoku's
clustering model initialises (0.01 there); None, the default, keeps PyTorch's own initialisation.
A cause under test: the partition is set within the first epochs, and small weights start every
cluster posterior near uniform.
`style_disc_noise` sets the noise on the Gaussian (style) adversary's inputs apart from the categorical
one's; None, the default, uses `disc_noise` for both, as before the option. Why: the noise is there so
that one-hot prior samples and softmax outputs overlap, which only the categorical adversary needs; on the
style adversary it blurs both distributions by the same Gaussian, so structure in z finer than the noise
(clusters of digits in the style code, which the decoder could then read instead of y) goes unpunished.
`cluster_invariance_weight` (not the paper's; 0, the default, draws nothing and leaves training as before to the bit)
adds w x KL(q(y|x) || q(y|T(x))) to the step that imposes the priors (the regularisation phase under `update: phased`,
the single step under `joint`), with T a small random turn, slant and resize of each image (`base.random_affine`) and
the clean posterior held fixed. Why: a linear probe reads the digit from (y, z) at about 93% while the clusters reach
70%; nothing asks y to ignore a digit's slant, which the categorical adversary's prior does not forbid y to follow.
Invariance of clusters to such changes is what IIC asks of its clusters; the same term lifted InfoAE's clusters by
23 points (results/reproduction/infoae-information-pilot), and the AAE's by 10 at epoch 4 on held-out images
(aae-invariance-pilot, six seeds); weights 0.25-1 gain alike (10-12 points, four seeds each), 2 gains nothing and 4
does worse than none, as the head then uses fewer clusters. Only y is asked: slant is style, and z should carry it.
`cluster_invariance_strength` s (1 by default) widens T's ranges to s x (15 degrees, a shear of 0.3, 10% in size):
IIC asks its clusters to survive larger changes than these, and what the clusters still merge (5s with 3s, 9s with
7s) differ by more than a slight slant (strength 2 at weight 0.25: no detectable effect at epoch 4, +1.2 points,
p = 0.69, four seeds).
`cluster_information_weight` (not the paper's; 0, the default, leaves training as before to the bit) subtracts
w x I(x; y) = H(mean q(y|x)) - mean H(q(y|x)) on each batch (IMAE's term, as InfoAE's option of the same name) in the same
step as the invariance term. Why: the categorical adversary sees the posteriors through noise (std 0.3, without which
it collapses the head), so it lets them stay soft (median max probability 0.90-0.96 at epoch 20 with the invariance
term, results/reproduction/aae-invariance-w025-test/anatomy-epoch20.md) while errors spread over many small merges;
information and invariance together are IIC's recipe, and they took InfoAE's clusters to 96.5% in one seed.
Measured with invariance 0.25 (results/reproduction/aae-information-test, MNIST test set, 20 epochs, seeds 0-2): 30
clusters 92.3 / 90.7 / 91.7% (86.4 / 88.3 / 85.4% without it; +4.8 points, p = 0.06), 16 clusters 84.2 / 82.4 / 85.5%.
`aux_clusters` K (not the paper's; 0, the default, makes no head and leaves training as before to the bit) adds a
second, K-way cluster head on the trunk that nothing decodes: it gets the information and invariance terms at their
weights (same T(x) as the main head), and its gradients shape the trunk the main head reads. Why: with 16 clusters
the AAE loses 7.6-10.9 points to clusters that mix digits (3 with 5 and 8, 4 with 9; aae-information-test/sizes)
while 30 clusters separate them (90.7-92.3%); IIC trains such an over-clustering head beside its main one so that the
shared features keep the finer distinctions. Needs `cluster_information_weight` > 0, which keeps the head from
settling on one cluster. Measured (results/reproduction/aae-aux-pilot, 16 clusters, invariance 0.25 + information 1,
four seeds, epoch 4, held-out images): K = 50 -2.8 points (p = 0.47), K = 100 -0.9 (p = 0.75), no detectable effect.
`cluster_balance` lambda (not the paper's; 1, the default, is I(x; y) itself) makes the information term
lambda x H(mean q(y|x)) - mean H(q(y|x)), as IIC's and SCAN's entropy weights do: below 1 the clusters are pushed less
toward equal sizes (the categorical adversary still matches the uniform prior), 0 asks only for confident posteriors.
Why: 16 equal clusters cap many-to-one accuracy at 87.0% on MNIST's test set, and clusters pressed toward equal sizes
may cut through digits (a 5-cluster giving its 3-like 5s to a 3-cluster) where they could instead differ in size.
Measured (the same pilot): lambda 0.5 -8.1 points (-15.5 to -0.7, p = 0.04), lambda 0 collapses the head to one or
two clusters: the push toward equal sizes holds the 16 clusters together.
`trunk: conv` (not the paper's; `mlp`, the default, is the paper's 1000-1000 MLP) puts two stride-2 convolutions before
the trunk's last layer (`conv_trunk`). Why: with 16 clusters the head gives some digits two or three clusters while it
merges 3 with 5 and 8 and 4 with 9, and the split is not by a simple style (within a digit, its clusters explain under
0.10 of the variance of ink, slant, width or height in 69 of 84 cases, at most 0.30;
aae-information-test/sizes/style-splits.md). A partition into nearly equal parts follows whatever the features make most
distinct; the hypothesis under test is that features of an MLP on pixels make variants of one digit as distinct as two
digits, where convolutions, which share weights across positions (as IIC's networks do), would not.
Measured (results/reproduction/aae-conv-pilot, 16 clusters, invariance 0.25 + information 1, four seeds, epoch 4, held-out
images): -2.8 points (-11.4 to +5.8, p = 0.37), no detectable effect, and a linear probe reads the digit from its code no
better (91.4% against 92.3%).
`cluster_neighbour_weight` w (not the paper's; 0, the default, leaves training as before to the bit) adds
w x -log <q(y|x), q(y|n)> to the same step as the other cluster terms, n drawn at each step from the `neighbours` (5)
nearest training images of x by pixel distance: SCAN's consistency loss (Van Gansbeke et al., 2020), with neighbours
found in pixel space instead of a pretext network's features. Why: the invariance term only asks the clusters to survive
changes T(x) of one image, while what the 16 clusters get wrong is which images belong together (3-like 5s in a 3-cluster);
on MNIST 95.6% of an image's 5 nearest training images by pixel distance show the same digit (measured with the labels
by results/reproduction/neighbour_purity.py; the term never sees them). The trial hands such a method the rows of each batch (`wants_batch_index`); the table of
neighbours is computed at the first step (72 s for 50,000 images on one CPU thread) and not saved.
Measured (results/reproduction/aae-neighbour-pilot, the same pilot design): w 0.25 +4.6 points (88.6% against 84.0%,
-5.8 to +14.9, p = 0.25), w 1 +0.4 (p = 0.88); w 0.25 on the MNIST test set after 20 epochs (aae-neighbour-test):
89.6 / 88.5 / 90.5 / 92.5 / 90.1% (seeds 0-4), +5.5 points over the setting without it (+4.0 to +7.0, p = 0.004, seeds 0-2).
With either term on, the regularisation phase's Adam normalises the generator loss and the terms together, so `adv_weight`
sets their balance and acts in the phased form too.
Clusters: argmax y; with K > classes the accuracy is many-to-one. The code the metrics see
is the decoder's input (y, z).

`adv_weight`, the weight of the regularisation phase's generator loss, is the hyperparameter
this project sweeps; the seed-002 controller can drive it from the adversaries' mean
accuracy (high accuracy: the codes are still far from the priors, so the weight goes up); under
the joint update it moves the balance between matching the priors and reconstructing.

Where the paper leaves details open, the choices here: the MLP 1000-1000 (ReLU) of the paper's
semi-supervised MNIST model for the encoder trunk, decoder and both adversaries; a 10-d style
code; Adam (lr 1e-4, betas 0.5/0.999) rather than the paper's momentum SGD with hand-set
schedules, since Adam needs no per-dataset schedule; the soft y (not its argmax)
goes to the decoder, so the reconstruction gradient reaches the cluster head.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .base import (Encoding, Method, WeightSpec, adam, affine_moved, bernoulli_nll, frozen, instance_noise, neighbour_agreement,
                   pixel_neighbours, posterior_shift, sgd)
from .hybrid import entropy


def mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def term_weight(name: str, value, meaning: str) -> float:
    """An optional loss term's weight as a float, or a ValueError that says what the term weighs (0 turns it off)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValueError(f"aae: {name} weighs {meaning}and must be a number >= 0 (0: no such term), got {value!r}")
    return float(value)


def conv_trunk(image_shape: tuple[int, ...], hidden: int) -> nn.Sequential:
    """Two stride-2 4x4 convolutions (32 and 64 channels, ReLU, no batch norm: rows stay independent), then one
    `hidden`-unit layer: the MLP trunk's first two layers replaced by convolutions, the depth unchanged. 32/64
    channels cost about 3x the MLP trunk's time per pass on one CPU thread; 64/128 cost 9x."""
    channels, height, width = image_shape
    convolutions = nn.Sequential(nn.Conv2d(channels, 32, 4, stride=2, padding=1), nn.ReLU(),
                                 nn.Conv2d(32, 64, 4, stride=2, padding=1), nn.ReLU(), nn.Flatten())
    features = 64 * (height // 4) * (width // 4)  # each convolution (kernel 4, stride 2, padding 1) halves a side, rounding down
    return nn.Sequential(convolutions, nn.Linear(features, hidden), nn.ReLU())


class AdversarialAutoencoder(Method):
    name = "aae"
    summary = "autoencoder whose cluster and style codes are matched to priors by two adversaries"
    weights = (WeightSpec("adv_weight", default=1.0, low=0.01, high=100.0, doc="weight of the adversarial (regularisation) loss"),)
    adaptive = {"adv_weight": "adv"}
    option_defaults = {
        "clusters": 16,
        "style_dim": 10,
        "hidden": 1000,
        "lr": 1e-4,
        "disc_lr": 1e-4,
        "update": "joint",
        "optimizer": "adam",
        "momentum": 0.9,
        "gen_lr": None,
        "disc_noise": 0.0,
        "lr_decay": 1.0,
        "input_noise": 0.0,
        "recon_loss": "bernoulli",
        "gen_optimizer": "own",
        "adam_beta1": 0.5,
        "init_std": None,
        "style_disc_noise": None,
        "cluster_invariance_weight": 0.0,
        "cluster_invariance_strength": 1.0,
        "cluster_information_weight": 0.0,
        "aux_clusters": 0,
        "cluster_balance": 1.0,
        "trunk": "mlp",
        "cluster_neighbour_weight": 0.0,
        "neighbours": 5,
    }

    def __init__(
        self,
        image_shape,
        generator,
        clusters: int = 16,
        style_dim: int = 10,
        hidden: int = 1000,
        lr: float = 1e-4,
        disc_lr: float = 1e-4,
        update: str = "joint",
        optimizer: str = "adam",
        momentum: float = 0.9,
        gen_lr: float | None = None,
        disc_noise: float = 0.0,
        lr_decay: float = 1.0,
        input_noise: float = 0.0,
        recon_loss: str = "bernoulli",
        gen_optimizer: str = "own",
        adam_beta1: float = 0.5,
        init_std: float | None = None,
        style_disc_noise: float | None = None,
        cluster_invariance_weight: float = 0.0,
        cluster_invariance_strength: float = 1.0,
        cluster_information_weight: float = 0.0,
        aux_clusters: int = 0,
        cluster_balance: float = 1.0,
        trunk: str = "mlp",
        cluster_neighbour_weight: float = 0.0,
        neighbours: int = 5,
    ) -> None:
        super().__init__(image_shape, generator)
        if clusters < 2:
            raise ValueError(f"aae needs at least 2 clusters, got {clusters}")
        if update not in ("joint", "phased"):
            raise ValueError(f"aae: update must be 'joint' or 'phased', got {update!r}")
        if optimizer not in ("adam", "sgd"):
            raise ValueError(f"aae: optimizer must be 'adam' or 'sgd', got {optimizer!r}")
        if not 0 <= momentum < 1:
            raise ValueError(f"aae: momentum must be in [0, 1), got {momentum}")
        if disc_noise < 0:
            raise ValueError(f"aae: disc_noise is a standard deviation and cannot be negative, got {disc_noise}")
        if recon_loss not in ("bernoulli", "squared"):
            raise ValueError(f"aae: recon_loss must be 'bernoulli' or 'squared', got {recon_loss!r}")
        self.recon_loss = recon_loss
        if input_noise < 0:
            raise ValueError(f"aae: input_noise is a standard deviation and cannot be negative, got {input_noise}")
        if not 0 < lr_decay <= 1:
            raise ValueError(f"aae: lr_decay must be in (0, 1] (1 = no decay), got {lr_decay!r}")
        if gen_lr is not None and update != "phased":
            raise ValueError("aae: gen_lr is the regularisation phase's rate and needs update: phased")
        if gen_optimizer not in ("own", "shared"):
            raise ValueError(f"aae: gen_optimizer must be 'own' or 'shared', got {gen_optimizer!r}")
        if gen_optimizer == "shared" and update != "phased":
            raise ValueError("aae: gen_optimizer: shared is about the regularisation phase and needs update: phased")
        if gen_optimizer == "shared" and gen_lr is not None:
            raise ValueError("aae: gen_lr gives the regularisation phase an optimizer of its own; it cannot go with gen_optimizer: shared")
        if not 0 <= adam_beta1 < 1:
            raise ValueError(f"aae: adam_beta1 must be in [0, 1), got {adam_beta1}")
        if adam_beta1 != 0.5 and optimizer != "adam":
            raise ValueError("aae: adam_beta1 sets Adam's first moment and needs optimizer: adam")
        if init_std is not None and not init_std > 0:
            raise ValueError(f"aae: init_std is a standard deviation and must be positive (or null for PyTorch's default), got {init_std}")
        if style_disc_noise is not None and style_disc_noise < 0:
            raise ValueError(f"aae: style_disc_noise is a standard deviation and cannot be negative (null: as disc_noise), got {style_disc_noise}")
        self.cluster_invariance_weight = term_weight("cluster_invariance_weight", cluster_invariance_weight,
                                                     "how far the clusters move under small affine changes ")
        value = cluster_invariance_strength
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 4:
            raise ValueError("aae: cluster_invariance_strength scales the turn, slant and resize of the invariance term "
                             f"(1: up to 15 degrees, a shear of 0.3, 10% in size) and must be a number in (0, 4], got {value!r}")
        if value != 1.0 and not self.cluster_invariance_weight:
            raise ValueError("aae: cluster_invariance_strength shapes the invariance term and needs cluster_invariance_weight > 0")
        self.cluster_invariance_strength = float(value)
        self.cluster_information_weight = term_weight("cluster_information_weight", cluster_information_weight,
                                                      "I(x; y), the information the clusters keep of each batch, ")
        value = aux_clusters
        if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value == 1:
            raise ValueError("aae: aux_clusters is the size of an auxiliary over-clustering head (0: none) and must be "
                             f"0 or a whole number >= 2, got {value!r}")
        if value and not self.cluster_information_weight:
            raise ValueError("aae: aux_clusters trains its head by the cluster terms alone and needs "
                             "cluster_information_weight > 0 (invariance alone lets it settle on one cluster)")
        value = cluster_balance
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 4:
            raise ValueError("aae: cluster_balance weighs H(mean q(y|x)), the information term's push toward clusters of "
                             f"equal size (1: I(x; y) itself) and must be a number in [0, 4], got {value!r}")
        if value != 1.0 and not self.cluster_information_weight:
            raise ValueError("aae: cluster_balance shapes the information term and needs cluster_information_weight > 0")
        self.cluster_balance = float(value)
        if trunk not in ("mlp", "conv"):
            raise ValueError(f"aae: trunk must be 'mlp' (the paper's) or 'conv' (two stride-2 convolutions first), got {trunk!r}")
        self.cluster_neighbour_weight = term_weight("cluster_neighbour_weight", cluster_neighbour_weight,
                                                    "how far an image's cluster posterior is from one of its nearest training images' ")
        if isinstance(neighbours, bool) or not isinstance(neighbours, int) or neighbours < 1:
            raise ValueError(f"aae: neighbours is how many nearest training images each image may be paired with and must be a "
                             f"whole number >= 1, got {neighbours!r}")
        if neighbours != 5 and not self.cluster_neighbour_weight:
            raise ValueError("aae: neighbours shapes the neighbour term and needs cluster_neighbour_weight > 0")
        self.neighbours = neighbours
        self.wants_batch_index = bool(self.cluster_neighbour_weight)
        self._training_images: torch.Tensor | None = None
        self._neighbour_table: torch.Tensor | None = None
        self.update, self.disc_noise, self.input_noise = update, disc_noise, input_noise
        self.style_disc_noise = disc_noise if style_disc_noise is None else style_disc_noise
        self.clusters, self.style_dim = clusters, style_dim
        pixels = math.prod(self.image_shape)
        self.trunk = (nn.Sequential(nn.Flatten(), mlp([pixels, hidden, hidden]), nn.ReLU()) if trunk == "mlp"
                      else conv_trunk(self.image_shape, hidden))
        self.cluster_head = nn.Linear(hidden, clusters)
        self.style_head = nn.Linear(hidden, style_dim)
        self.decoder = mlp([clusters + style_dim, hidden, hidden, pixels])
        self.disc_cat = mlp([clusters, hidden, hidden, 1])
        self.disc_gauss = mlp([style_dim, hidden, hidden, 1])
        # made last and only when asked, so that without it every other layer draws the same initial weights
        self.aux_head = nn.Linear(hidden, aux_clusters) if aux_clusters else None
        if init_std is not None:
            for layer in self.modules():
                if isinstance(layer, nn.Linear):
                    nn.init.normal_(layer.weight, std=init_std)
                    nn.init.zeros_(layer.bias)
        encoder = [*self.trunk.parameters(), *self.cluster_head.parameters(), *self.style_head.parameters()]
        if self.aux_head is not None:
            encoder += [*self.aux_head.parameters()]

        def optimise(params, rate):
            if optimizer == "sgd":
                return sgd(params, lr=rate, momentum=momentum)
            return adam(params, lr=rate, betas=(adam_beta1, 0.999))

        self.optimizers["recon"] = optimise([*encoder, *self.decoder.parameters()], lr)
        self.optimizers["disc"] = optimise([*self.disc_cat.parameters(), *self.disc_gauss.parameters()], disc_lr)
        if update == "phased" and gen_optimizer == "own":
            self.optimizers["gen"] = optimise(encoder, lr if gen_lr is None else gen_lr)
        self._gen_key = "gen" if "gen" in self.optimizers else "recon"
        if lr_decay < 1:
            for key, optimizer_ in self.optimizers.items():
                self.schedulers[key] = torch.optim.lr_scheduler.ExponentialLR(optimizer_, gamma=lr_decay)

    def _noisy(self, codes: torch.Tensor) -> torch.Tensor:
        """The categorical adversary's training input (a one-hot prior sample and a nearly one-hot softmax
        stop being trivially apart)."""
        return instance_noise(codes, self.disc_noise, self.generator)

    def _noisy_style(self, style: torch.Tensor) -> torch.Tensor:
        """The Gaussian adversary's training input (`style_disc_noise`, by default `disc_noise`)."""
        return instance_noise(style, self.style_disc_noise, self.generator)

    def _heads(self, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.softmax(self.cluster_head(hidden), dim=1), self.style_head(hidden)

    def _codes(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self._heads(self.trunk(x))

    def _training_hidden(self, x: torch.Tensor) -> torch.Tensor:
        """The trunk's features of a training batch, encoded from its corrupted copy when `input_noise` is set."""
        return self.trunk(instance_noise(x, self.input_noise, self.generator))

    def _training_codes(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self._heads(self._training_hidden(x))

    def _reconstruction(self, y: torch.Tensor, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """The reconstruction phase's loss per image, averaged over the batch (`recon_loss`)."""
        logits = self.decode(torch.cat([y, z], dim=1))
        if self.recon_loss == "bernoulli":
            return bernoulli_nll(logits, x)
        return 0.5 * (torch.sigmoid(logits) - x).square().flatten(1).sum(dim=1).mean()

    def _prior(self, n: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        index = torch.randint(self.clusters, (n,), generator=self.generator, device=device)
        y = nn.functional.one_hot(index, self.clusters).float()
        z = torch.randn((n, self.style_dim), generator=self.generator, device=device)
        return y, z

    def _generator_loss(self, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Non-saturating loss of the codes against both adversaries (the codes want label 1)."""
        bce = nn.functional.binary_cross_entropy_with_logits
        with frozen(self.disc_cat, self.disc_gauss):
            cat_logits, gauss_logits = self.disc_cat(self._noisy(y)), self.disc_gauss(self._noisy_style(z))
        return bce(cat_logits, torch.ones_like(cat_logits)) + bce(gauss_logits, torch.ones_like(gauss_logits))

    def _moved_features(self, x: torch.Tensor) -> torch.Tensor:
        """The trunk's features of T(x), which both cluster heads are asked about (`base.affine_moved`)."""
        return self.trunk(affine_moved(x, self.generator, self.cluster_invariance_strength))

    def attach_training_images(self, images: torch.Tensor) -> None:
        """Kept (a reference) only when the neighbour term is on: its pairs come from the whole training set."""
        if self.cluster_neighbour_weight:
            self._training_images, self._neighbour_table = images, None

    def _neighbour_images(self, x: torch.Tensor, index: torch.Tensor | None) -> torch.Tensor:
        """For each row of x, one of its `neighbours` nearest training images by pixel distance, drawn at random.
        The table of neighbours is computed once, at the first step that gives the batch's `index` (72 s for
        MNIST's 50,000 training images on one CPU thread); a step without an index (the weight and metric checks, which
        step on a bare batch) draws the neighbours from within the batch."""
        if index is not None and self._training_images is not None:
            if self._neighbour_table is None:
                self._neighbour_table = pixel_neighbours(self._training_images, self.neighbours)
            pool, table = self._training_images, self._neighbour_table[index]
        else:
            pool, table = x, pixel_neighbours(x, min(self.neighbours, x.shape[0] - 1))
        pick = torch.randint(table.shape[1], (table.shape[0], 1), generator=self.generator, device=x.device)
        return pool[table.gather(1, pick).squeeze(1)]

    def _invariance(self, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """KL(q(y|x) || q(y|T(x))), the clean posterior y held fixed (`base.affine_invariance`)."""
        return posterior_shift(y, self.cluster_head(self._moved_features(x)))

    def _cluster_terms(self, y: torch.Tensor, x: torch.Tensor, hidden: torch.Tensor,
                       index: torch.Tensor | None = None) -> tuple[torch.Tensor | int, dict[str, torch.Tensor]]:
        """The weighted cluster terms that are on (invariance, minus information) and their values to report; with
        `aux_clusters` the auxiliary head on the same features (`hidden`, the trunk's output for y) gets the same
        terms at the same weights."""
        added: torch.Tensor | int = 0
        report: dict[str, torch.Tensor] = {}
        aux = torch.softmax(self.aux_head(hidden), dim=1) if self.aux_head is not None else None
        if self.cluster_invariance_weight:
            moved = self._moved_features(x)
            invariance = posterior_shift(y, self.cluster_head(moved))
            added = added + self.cluster_invariance_weight * invariance
            report["loss/cluster_invariance"] = invariance.detach()
            if aux is not None:
                aux_invariance = posterior_shift(aux, self.aux_head(moved))
                added = added + self.cluster_invariance_weight * aux_invariance
                report["loss/aux_cluster_invariance"] = aux_invariance.detach()
        if self.cluster_information_weight:
            information = self.cluster_balance * entropy(y.mean(dim=0)) - entropy(y).mean()
            added = added - self.cluster_information_weight * information
            report["loss/cluster_information"] = information.detach()
            if aux is not None:
                aux_information = self.cluster_balance * entropy(aux.mean(dim=0)) - entropy(aux).mean()
                added = added - self.cluster_information_weight * aux_information
                report["loss/aux_cluster_information"] = aux_information.detach()
        if self.cluster_neighbour_weight:
            neighbour = torch.softmax(self.cluster_head(self.trunk(self._neighbour_images(x, index))), dim=1)
            agreement = neighbour_agreement(y, neighbour)
            added = added + self.cluster_neighbour_weight * agreement
            report["loss/cluster_neighbour"] = agreement.detach()
        return added, report

    def _adversary_step(self, y_fake: torch.Tensor, z_fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One update of both adversaries: prior samples (label 1) against the given codes (label 0)."""
        bce = nn.functional.binary_cross_entropy_with_logits
        y_real, z_real = self._prior(y_fake.shape[0], y_fake.device)
        y_both, z_both = self._noisy(torch.cat([y_real, y_fake])), self._noisy_style(torch.cat([z_real, z_fake]))
        # one call per adversary on prior samples and codes together (rows do not interact: no batch norm)
        logits = [*self.disc_cat(y_both).chunk(2), *self.disc_gauss(z_both).chunk(2)]
        disc_loss = sum(bce(l, torch.full_like(l, float(i % 2 == 0))) for i, l in enumerate(logits)) / 2
        self.optimizers["disc"].zero_grad(set_to_none=True)
        disc_loss.backward()
        self.optimizers["disc"].step()
        accuracy = sum(((l > 0) if i % 2 == 0 else (l < 0)).float().mean() for i, l in enumerate(logits)) / 4
        return disc_loss, accuracy

    def train_step(self, x, weights, index=None):
        if self.update == "joint":
            hidden = self._training_hidden(x)
            y, z = self._heads(hidden)
            disc_loss, accuracy = self._adversary_step(y.detach(), z.detach())
            recon = self._reconstruction(y, z, x)
            generator_loss = self._generator_loss(y, z)
            added, cluster_report = self._cluster_terms(y, x, hidden, index)
            total = recon + weights["adv_weight"] * generator_loss + added
            self.optimizers["recon"].zero_grad(set_to_none=True)
            total.backward()
            self.optimizers["recon"].step()
        else:
            y, z = self._training_codes(x)
            recon = self._reconstruction(y, z, x)
            self.optimizers["recon"].zero_grad(set_to_none=True)
            recon.backward()
            self.optimizers["recon"].step()
            with torch.no_grad():
                y_fake, z_fake = self._training_codes(x)
            disc_loss, accuracy = self._adversary_step(y_fake, z_fake)
            hidden = self._training_hidden(x)
            y, z = self._heads(hidden)
            generator_loss = self._generator_loss(y, z)
            added, cluster_report = self._cluster_terms(y, x, hidden, index)
            weighted = weights["adv_weight"] * generator_loss + added
            gen = self.optimizers[self._gen_key]  # "recon" when shared: the decoder's grads stay None and are skipped
            gen.zero_grad(set_to_none=True)
            weighted.backward()
            gen.step()
            total = recon + weighted

        report = {
            "loss/recon": recon.detach(),
            "loss/disc": disc_loss.detach(),
            "loss/gen": generator_loss.detach(),
            "loss/total": total.detach(),
            "disc_acc/adv": accuracy.detach(),
            **cluster_report,
        }
        return report

    def encode(self, x):
        probs, style = self._codes(x)
        return Encoding(code=torch.cat([probs, style], dim=1), probs=probs)

    def decode(self, z):
        return self.decoder(z).view(-1, *self.image_shape)
