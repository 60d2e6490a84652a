"""Prior-free, adversarial-mechanism-embedded autoencoder (AME-AE; Gao & Xiong, seed 004).

An encoder E, a decoder D and a classifier C, where the discriminator is Dis = C o E: it shares
the encoder and tells original images x (label 1) from reconstructions x_hat = D(E(x)) (label 0).
Loss, eq. (4): min_{E,D,C} -lambda_dis L_dis + lambda_rec L_rec, with
- L_rec = ||x - x_hat||^2 per image (MSE summed over pixels, eq. 1);
- L_dis = E[log Dis(x) + log(1 - Dis(x_hat))], maximised by E and C (eq. 2); the decoder uses
  the non-saturating form, maximising E[log Dis(x_hat)] (eq. 3).
The two parts are optimised alternately, as the paper says: first E and C (discrimination,
x_hat held fixed, plus lambda_rec L_rec for E), then D (lambda_rec L_rec plus lambda_dis times
the non-saturating loss). Adam, lr 1e-4, betas 0.5/0.999 (section 4.1).

lambda_dis can follow Dis's accuracy (`trainables.weighting`): high accuracy means the
reconstructions are still easy to tell from the originals, so the adversarial weight goes up.

Where the paper is silent or its material is not available here: its residual P-Res / U-Res
networks are described only in a supplement, so E and D are this project's shared networks
(`trainables.networks`, chosen by image shape) with a deterministic code of `latent_dim`;
C, "a shallow neural network", is one hidden layer of `classifier_hidden` units; the default
weights are lambda_dis = lambda_rec = 1 ("vary with tasks").
"""

from __future__ import annotations

import torch
from torch import nn

from ..networks import make_decoder, make_encoder
from .base import Encoding, Method, WeightSpec, adam


class AMEAutoencoder(Method):
    name = "ame_ae"
    summary = "autoencoder whose encoder also serves a real-vs-reconstructed discriminator"
    weights = (
        WeightSpec("lambda_dis", default=1.0, low=0.001, high=100.0, doc="weight of the discrimination loss"),
        WeightSpec("lambda_rec", default=1.0, low=0.01, high=100.0, doc="weight of the reconstruction (MSE) loss"),
    )
    adaptive = {"lambda_dis": "dis"}
    option_defaults = {"latent_dim": 64, "classifier_hidden": 256, "lr": 1e-4}

    def __init__(self, image_shape, generator, latent_dim: int = 64, classifier_hidden: int = 256, lr: float = 1e-4) -> None:
        super().__init__(image_shape, generator)
        self.encoder = make_encoder(self.image_shape, latent_dim)
        self.decoder = make_decoder(self.image_shape, latent_dim)
        self.classifier = nn.Sequential(nn.Linear(latent_dim, classifier_hidden), nn.LeakyReLU(0.2), nn.Linear(classifier_hidden, 1))
        encoder_and_classifier = [*self.encoder.parameters(), *self.classifier.parameters()]
        self.optimizers["encoder_classifier"] = adam(encoder_and_classifier, lr=lr, betas=(0.5, 0.999))
        self.optimizers["decoder"] = adam(self.decoder.parameters(), lr=lr, betas=(0.5, 0.999))

    def discriminate(self, x: torch.Tensor) -> torch.Tensor:
        """Dis = C o E: the logit that x is an original image."""
        return self.classifier(self.encoder(x))

    @staticmethod
    def _mse(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return (x_hat - x).pow(2).flatten(1).sum(dim=1).mean()

    def train_step(self, x, weights):
        bce = nn.functional.binary_cross_entropy_with_logits
        lambda_dis, lambda_rec = weights["lambda_dis"], weights["lambda_rec"]

        # E and C: tell originals from (fixed) reconstructions, and keep reconstructing
        code = self.encoder(x)
        x_hat = torch.sigmoid(self.decoder(code))
        rec = self._mse(x_hat, x)
        logits_real = self.classifier(code)
        logits_fake = self.discriminate(x_hat.detach())
        dis_loss = bce(logits_real, torch.ones_like(logits_real)) + bce(logits_fake, torch.zeros_like(logits_fake))
        loss_ec = lambda_dis * dis_loss + lambda_rec * rec
        self.optimizers["encoder_classifier"].zero_grad(set_to_none=True)
        loss_ec.backward()
        self.optimizers["encoder_classifier"].step()
        accuracy = 0.5 * ((logits_real > 0).float().mean() + (logits_fake < 0).float().mean())

        # D: reconstruct, and fool Dis (non-saturating)
        with torch.no_grad():
            code = self.encoder(x)
        x_hat = torch.sigmoid(self.decoder(code))
        rec_d = self._mse(x_hat, x)
        fooled = self.discriminate(x_hat)
        gen_loss = bce(fooled, torch.ones_like(fooled))
        loss_d = lambda_rec * rec_d + lambda_dis * gen_loss
        self.optimizers["decoder"].zero_grad(set_to_none=True)
        loss_d.backward()
        self.optimizers["decoder"].step()

        return {
            "loss/recon": rec.detach(),
            "loss/disc": dis_loss.detach(),
            "loss/gen": gen_loss.detach(),
            "loss/total": (loss_ec + loss_d).detach(),
            "disc_acc/dis": accuracy.detach(),
        }

    def encode(self, x):
        return Encoding(code=self.encoder(x))

    def decode(self, z):
        return self.decoder(z)
