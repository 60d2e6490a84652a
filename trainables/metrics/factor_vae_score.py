"""FactorVAE disentanglement score.

Kim & Mnih, "Disentangling by Factorising", ICML 2018, section 4; defaults as in
disentanglement_lib's `factor_vae.py`. One vote: fix one factor, draw a batch of points
sharing its value, normalise each latent's variance within the batch by its variance over
the whole pool, and take the latent with the lowest normalised variance; the vote is
(fixed factor, that latent). A majority-vote classifier maps each latent to the factor it
was most often chosen for; the score is that classifier's accuracy on fresh votes.
Latents whose standard deviation over the pool is under `prune_std` (collapsed ones) take
no part; with no active latent the score is 0.
"""

from __future__ import annotations

import numpy as np

from .pool import FactorPool, check_pool_size


def _votes(pool: FactorPool, active: np.ndarray, global_var: np.ndarray, count: int, batch_size: int, rng, chunk: int = 1000) -> np.ndarray:
    votes = np.zeros((pool.num_factors, active.size), dtype=np.int64)
    for start in range(0, count, chunk):
        n = min(chunk, count - start)
        factor = rng.integers(pool.num_factors, size=n)
        anchor = rng.integers(pool.codes.shape[0], size=n)
        batch = pool.codes[pool.same_value(factor, anchor, batch_size, rng)][:, :, active]  # n x batch x active
        local_var = batch.var(axis=1, ddof=1)
        chosen = np.argmin(local_var / global_var[active], axis=1)
        np.add.at(votes, (factor, chosen), 1)
    return votes


def factor_vae_score(
    codes,
    factors,
    batch_size: int = 64,
    num_train: int = 10_000,
    num_eval: int = 5_000,
    num_variance_estimate: int = 10_000,
    prune_std: float = 0.05,
    seed: int = 0,
) -> float:
    """Accuracy of the majority-vote classifier on `num_eval` fresh votes."""
    pool = FactorPool(codes, factors)
    check_pool_size(pool, 2, "factor_vae_score")
    rng = np.random.default_rng(seed)
    sample = rng.integers(pool.codes.shape[0], size=min(num_variance_estimate, pool.codes.shape[0]))
    global_var = pool.codes[sample].var(axis=0, ddof=1)
    active = np.flatnonzero(np.sqrt(global_var) >= prune_std)
    if active.size == 0:
        return 0.0
    train = _votes(pool, active, global_var, num_train, batch_size, rng)
    classifier = train.argmax(axis=0)  # latent -> factor
    evaluation = _votes(pool, active, global_var, num_eval, batch_size, rng)
    return float(evaluation[classifier, np.arange(active.size)].sum() / evaluation.sum())
