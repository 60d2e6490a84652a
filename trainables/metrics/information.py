"""Information quantities of a code (seed 001, IMAE: "Information Maximization Auto-Encoding").

- `mi_x_y`: empirical I(x; y) of a categorical code, H(mean_x p(y|x)) - mean_x H(p(y|x)),
  the estimator of the paper's equation (7). Nats.
- `mi_x_z`: I(x; z_k) of each latent of a factorised Gaussian encoder, H(z_k) - H(z_k|x), with
  H(z_k|x) exact (Gaussian entropies) and H(z_k) by the minibatch estimator of the paper's
  appendix B: log q(z_k) ~= log (1/B) sum_j q(z_k | x_j), z ~ q(z|x_i), within minibatches of
  B points (`batch_size`, default 1,000), averaged over the minibatches.
- `total_correlation`: KL(q(z) || prod_k q(z_k)) by the same estimator family,
  mean_i [log q(z_i) - sum_k log q(z_ik)].

The cost is O(N B D), and the estimates are biased for small B (a point's own density weighs
in its sum; I(x; z_k) cannot exceed log B): compare them across trials at the same B.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .validation import MetricInputError


def _as_tensor(array, name: str) -> torch.Tensor:
    tensor = torch.as_tensor(array)
    if not torch.is_floating_point(tensor):
        tensor = tensor.double()
    if not torch.isfinite(tensor).all():
        raise MetricInputError(f"{name} contains NaN or infinite values")
    return tensor


def mi_x_y(probs) -> float:
    """I(x; y) in nats from class probabilities p(y|x), points x classes."""
    p = _as_tensor(probs, "probs").double()
    if p.ndim != 2 or p.shape[0] < 1:
        raise MetricInputError(f"probs must be points x classes, got shape {tuple(p.shape)}")
    if (p < 0).any() or not torch.allclose(p.sum(dim=1), torch.ones(p.shape[0], dtype=p.dtype), atol=1e-4):
        raise MetricInputError("probs rows must be probability vectors (non-negative, summing to 1)")
    def entropy(q: torch.Tensor) -> torch.Tensor:
        return -(q * torch.log(q.clamp_min(1e-30))).sum(dim=-1)
    return float(entropy(p.mean(dim=0)) - entropy(p).mean())


def _log_density_sums(
    mu: torch.Tensor, logvar: torch.Tensor, seed: int, batch_size: int, chunk: int = 256
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per point i: log q(z_i) (joint) and log q(z_ik) per latent, by the minibatch estimator."""
    noise = torch.randn(mu.shape, generator=torch.Generator().manual_seed(seed), dtype=mu.dtype).to(mu.device)
    z = mu + torch.exp(0.5 * logvar) * noise
    inverse_var = torch.exp(-logvar)
    joint, marginal = [], []
    for batch in torch.arange(mu.shape[0], device=mu.device).split(batch_size):
        log_b = math.log(len(batch))
        mu_b, logvar_b, inverse_b = mu[batch], logvar[batch], inverse_var[batch]
        for rows in batch.split(chunk):
            diff = z[rows, None, :] - mu_b[None]
            log_q = -0.5 * (math.log(2 * math.pi) + logvar_b[None] + diff.pow(2) * inverse_b[None])  # rows x B x D
            marginal.append(torch.logsumexp(log_q, dim=1) - log_b)
            joint.append(torch.logsumexp(log_q.sum(dim=2), dim=1) - log_b)
    return torch.cat(joint), torch.cat(marginal)


def _check_gaussian(mu, logvar) -> tuple[torch.Tensor, torch.Tensor]:
    mu, logvar = _as_tensor(mu, "mu").float(), _as_tensor(logvar, "logvar").float()
    if mu.ndim != 2 or mu.shape != logvar.shape:
        raise MetricInputError(f"mu and logvar must be points x latents of one shape, got {tuple(mu.shape)} and {tuple(logvar.shape)}")
    if mu.shape[0] < 2:
        raise MetricInputError("the minibatch estimator needs at least 2 points")
    return mu, logvar


def gaussian_information(mu, logvar, batch_size: int = 1000, seed: int = 0) -> tuple[np.ndarray, float]:
    """I(x; z_k) per latent and TC(z), in nats, from one pass of the estimator."""
    mu, logvar = _check_gaussian(mu, logvar)
    joint, marginal = _log_density_sums(mu, logvar, seed, batch_size)
    entropy_z = -marginal.double().mean(dim=0)
    entropy_z_given_x = (0.5 * (math.log(2 * math.pi * math.e) + logvar.double())).mean(dim=0)
    per_latent = (entropy_z - entropy_z_given_x).cpu().numpy()
    tc = float((joint.double() - marginal.double().sum(dim=1)).mean())
    return per_latent, tc


def mi_x_z(mu, logvar, batch_size: int = 1000, seed: int = 0) -> np.ndarray:
    """I(x; z_k) in nats for each latent k of a Gaussian encoder."""
    return gaussian_information(mu, logvar, batch_size, seed)[0]


def total_correlation(mu, logvar, batch_size: int = 1000, seed: int = 0) -> float:
    """TC(z) in nats of the aggregate posterior of a Gaussian encoder."""
    return gaussian_information(mu, logvar, batch_size, seed)[1]
