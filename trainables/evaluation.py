"""One evaluation pass: encode the evaluation set once, then score every metric from that pass."""

from __future__ import annotations

import logging
import math

import torch
from torch import nn

from .datasets import ImageSet
from .methods import Method
from .metrics import MetricInputError, clustering_scores, kmeans_clusters, mig

log = logging.getLogger(__name__)

EVAL_KEYS = ("recon_mse", "recon_bce", "cluster_acc", "cluster_nmi", "cluster_ari", "mig")


@torch.no_grad()
def evaluate(method: Method, data: ImageSet, seed: int = 0, batch_size: int = 1024) -> dict[str, float]:
    """Reconstruction, clustering and disentanglement of `data` (already on the method's device).

    A metric that does not apply (no labels, no factors) or cannot be computed (NaN codes) is
    NaN; the reason for the latter is logged.
    """
    was_training = method.training
    method.eval()
    codes, clusters = [], []
    mse = torch.zeros((), device=data.images.device)
    bce = torch.zeros((), device=data.images.device)
    for chunk in data.images.split(batch_size):
        encoding = method.encode(chunk)
        logits = method.decode(encoding.code)
        bce += nn.functional.binary_cross_entropy_with_logits(logits, chunk, reduction="sum")
        mse += (torch.sigmoid(logits) - chunk).pow(2).sum()
        codes.append(encoding.code)
        if encoding.clusters is not None:
            clusters.append(encoding.clusters)
    method.train(was_training)

    n = len(data)
    results = {key: math.nan for key in EVAL_KEYS}
    results["recon_mse"] = mse.item() / n
    results["recon_bce"] = bce.item() / n
    code = torch.cat(codes).cpu().numpy()
    try:
        if data.labels is not None:
            labels = data.labels.cpu().numpy()
            assigned = torch.cat(clusters).cpu().numpy() if clusters else kmeans_clusters(code, data.num_classes, seed=seed)
            results.update(clustering_scores(labels, assigned))
        if data.factors is not None:
            results["mig"] = mig(code, data.factors.cpu().numpy())
    except MetricInputError as error:
        log.warning("metrics left NaN: %s", error)
    return results
