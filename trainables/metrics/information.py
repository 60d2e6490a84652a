"""Information quantities of a code (seed 001, IMAE: "Information Maximization Auto-Encoding").

- `mi_x_y`: empirical I(x; y) of a categorical code, H(mean_x p(y|x)) - mean_x H(p(y|x)),
  the estimator of the paper's equation (7). Nats.
- `mi_x_z`: I(x; z_k) of each latent of a factorised Gaussian encoder, H(z_k) - H(z_k|x), with
  H(z_k|x) exact (Gaussian entropies) and H(z_k) by the minibatch estimator of the paper's
  appendix B: log q(z_k) ~= log (1/N) sum_j q(z_k | x_j), z ~ q(z|x_i), over the N points given.
- `total_correlation`: KL(q(z) || prod_k q(z_k)) by the same estimator family,
  mean_i [log q(z_i) - sum_k log q(z_ik)].

Both Gaussian estimators are biased for small N (each point's own density dominates its sum);
compare them across trials at the same N.
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


def _log_density_sums(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator, chunk: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per point i: log q(z_i) (joint) and log q(z_ik) per latent, by the minibatch estimator."""
    n = mu.shape[0]
    noise = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device="cpu").to(mu.device)
    z = mu + torch.exp(0.5 * logvar) * noise
    joint, marginal = [], []
    log_n = math.log(n)
    for rows in torch.arange(n, device=mu.device).split(chunk):
        diff = z[rows, None, :] - mu[None, :, :]
        log_q = -0.5 * (math.log(2 * math.pi) + logvar[None] + diff.pow(2) / logvar.exp()[None])  # rows x N x D
        marginal.append(torch.logsumexp(log_q, dim=1) - log_n)
        joint.append(torch.logsumexp(log_q.sum(dim=2), dim=1) - log_n)
    return torch.cat(joint), torch.cat(marginal)


def _check_gaussian(mu, logvar) -> tuple[torch.Tensor, torch.Tensor]:
    mu, logvar = _as_tensor(mu, "mu").double(), _as_tensor(logvar, "logvar").double()
    if mu.ndim != 2 or mu.shape != logvar.shape:
        raise MetricInputError(f"mu and logvar must be points x latents of one shape, got {tuple(mu.shape)} and {tuple(logvar.shape)}")
    if mu.shape[0] < 2:
        raise MetricInputError("the minibatch estimator needs at least 2 points")
    return mu, logvar


def mi_x_z(mu, logvar, seed: int = 0, chunk: int = 256) -> np.ndarray:
    """I(x; z_k) in nats for each latent k of a Gaussian encoder."""
    mu, logvar = _check_gaussian(mu, logvar)
    _, marginal = _log_density_sums(mu, logvar, torch.Generator().manual_seed(seed), chunk)
    entropy_z = -marginal.mean(dim=0)
    entropy_z_given_x = (0.5 * (math.log(2 * math.pi * math.e) + logvar)).mean(dim=0)
    return (entropy_z - entropy_z_given_x).cpu().numpy()


def total_correlation(mu, logvar, seed: int = 0, chunk: int = 256) -> float:
    """TC(z) in nats of the aggregate posterior of a Gaussian encoder."""
    mu, logvar = _check_gaussian(mu, logvar)
    joint, marginal = _log_density_sums(mu, logvar, torch.Generator().manual_seed(seed), chunk)
    return float((joint - marginal.sum(dim=1)).mean())
