"""BetaVAE disentanglement score.

Higgins et al., "beta-VAE: Learning Basic Visual Concepts with a Constrained Variational
Framework", ICLR 2017; defaults as in disentanglement_lib's `beta_vae.py`. One training
point: pick a factor, draw `batch_size` pairs of points that share that factor's value (the
other factors free), and take the mean absolute difference of the pairs' codes; the label is
the factor. A logistic regression learns to name the factor from that difference; the score
is its accuracy on `num_eval` fresh points.

One change from disentanglement_lib: the features are standardised before the (L2-regularised)
logistic regression, so that rescaling a latent does not change the score; and the
regression may take up to 1,000 iterations (scikit-learn's default of 100 does not always
converge on these features).
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from .pool import FactorPool, check_pool_size


def _points(pool: FactorPool, count: int, batch_size: int, rng) -> tuple[np.ndarray, np.ndarray]:
    factor = rng.integers(pool.num_factors, size=count)
    first = rng.integers(pool.codes.shape[0], size=(count, batch_size))
    flat_factor = np.repeat(factor, batch_size)
    second = pool.same_value(flat_factor, first.ravel(), 1, rng).reshape(count, batch_size)
    features = np.abs(pool.codes[first] - pool.codes[second]).mean(axis=1)
    return features, factor


def beta_vae_score(codes, factors, batch_size: int = 64, num_train: int = 10_000, num_eval: int = 5_000, seed: int = 0) -> float:
    """Accuracy of a logistic regression that tells the fixed factor from code differences."""
    pool = FactorPool(codes, factors)
    check_pool_size(pool, 2, "beta_vae_score")
    rng = np.random.default_rng(seed)
    train_x, train_y = _points(pool, num_train, batch_size, rng)
    eval_x, eval_y = _points(pool, num_eval, batch_size, rng)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=seed)).fit(train_x, train_y)
    return float(model.score(eval_x, eval_y))
