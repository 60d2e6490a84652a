"""Information quantities of a code (seed 001, IMAE: "Information Maximization Auto-Encoding").

- `mi_x_y`: empirical I(x; y) of a categorical code, H(mean_x p(y|x)) - mean_x H(p(y|x)),
  the estimator of the paper's equation (7). Nats.
- `mi_x_z`: I(x; z_k) of each latent of a factorised Gaussian encoder, H(z_k) - H(z_k|x), with
  H(z_k|x) exact (Gaussian entropies) and H(z_k) by the minibatch estimator of the paper's
  appendix B: log q(z_k) ~= log (1/B) sum_j q(z_k | x_j), z ~ q(z|x_i), within minibatches of
  B points (`batch_size`, default 1,000), averaged over the minibatches.
- `total_correlation`: KL(q(z) || prod_k q(z_k)) by the same estimator family,
  mean_i [log q(z_i) - sum_k log q(z_ik)].
- `hybrid_total_correlation`: seed 001's TC(y; z) of a hybrid code, KL(q(y, z) || q(y) prod_k q(z_k))
  = I(y; z) + TC(z), the quantity of its table 4a and of IMAE's training term
  (`trainables.methods.hybrid.MinibatchMarginals.total_correlation`): z sampled, the expectation
  over the categorical y taken exactly, q(y, z) = (1/B) sum_j p(y|x_j) q(z|x_j) in the minibatch.

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
    mu: torch.Tensor, logvar: torch.Tensor, seed: int, batch_size: int, probs: torch.Tensor | None = None, chunk: int = 256
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Per point i, by the minibatch estimator: log q(z_i) (joint), log q(z_ik) per latent, and with
    class probabilities p(y|x) also sum_c p(c|x_i) [log q(c, z_i) - log q(c)] (None without)."""
    noise = torch.randn(mu.shape, generator=torch.Generator().manual_seed(seed), dtype=mu.dtype).to(mu.device)
    z = mu + torch.exp(0.5 * logvar) * noise
    inverse_var = torch.exp(-logvar)
    joint, marginal, with_y = [], [], []
    for batch in torch.arange(mu.shape[0], device=mu.device).split(batch_size):
        log_b = math.log(len(batch))
        mu_b, logvar_b, inverse_b = mu[batch], logvar[batch], inverse_var[batch]
        if probs is not None:
            log_probs_b = torch.log(probs[batch].clamp_min(1e-30))  # B x C
            log_y_b = torch.log(probs[batch].mean(dim=0).clamp_min(1e-30))  # C
        for rows in batch.split(chunk):
            diff = z[rows, None, :] - mu_b[None]
            log_q = -0.5 * (math.log(2 * math.pi) + logvar_b[None] + diff.pow(2) * inverse_b[None])  # rows x B x D
            marginal.append(torch.logsumexp(log_q, dim=1) - log_b)
            log_z_given_xj = log_q.sum(dim=2)  # rows x B
            joint.append(torch.logsumexp(log_z_given_xj, dim=1) - log_b)
            if probs is not None:
                log_yz = torch.logsumexp(log_z_given_xj[:, :, None] + log_probs_b[None], dim=1) - log_b  # rows x C
                with_y.append((probs[rows] * (log_yz - log_y_b)).sum(dim=1))
    return torch.cat(joint), torch.cat(marginal), (torch.cat(with_y) if probs is not None else None)


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
    joint, marginal, _ = _log_density_sums(mu, logvar, seed, batch_size)
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


def hybrid_total_correlation(mu, logvar, probs, batch_size: int = 1000, seed: int = 0) -> float:
    """TC(y; z) in nats of a hybrid code: categorical y (class probabilities) with Gaussian latents z."""
    mu, logvar = _check_gaussian(mu, logvar)
    p = _as_tensor(probs, "probs").to(dtype=mu.dtype, device=mu.device)
    if p.ndim != 2 or p.shape[0] != mu.shape[0]:
        raise MetricInputError(f"probs must be points x classes for the {mu.shape[0]} points of mu, got shape {tuple(p.shape)}")
    if (p < 0).any() or not torch.allclose(p.sum(dim=1), torch.ones(p.shape[0], dtype=p.dtype, device=p.device), atol=1e-4):
        raise MetricInputError("probs rows must be probability vectors (non-negative, summing to 1)")
    _, marginal, with_y = _log_density_sums(mu, logvar, seed, batch_size, probs=p)
    return float((with_y.double() - marginal.double().sum(dim=1)).mean())
