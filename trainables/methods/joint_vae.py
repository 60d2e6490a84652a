"""JointVAE (Dupont, NeurIPS 2018) as the IMAE paper (seed 001, Figure 1) compares it:
1 - beta |4 + 5 - C_z| - gamma |2 + 3 - C_y|.

Each KL term of the hybrid model (`hybrid.py`) is pushed towards a capacity that grows
linearly from 0 to its maximum over `capacity_steps` training steps, so the code may carry
more information as training goes on: loss = Bernoulli NLL + beta |KL(p(z|x) || r(z)) - C_z|
+ gamma |KL(p(y|x) || r(y)) - C_y| + gamma * VAT. Dupont's MNIST settings give the capacities:
C_z up to 5 nats and C_y up to 5 nats capped at log K (a categorical code cannot carry more),
both over 25,000 steps. He weighs both terms by 30; the comparison paper uses 5 for every model,
so 5 is the default here. The step counter is a buffer, so it lives on the trial's device and
goes into checkpoints.
"""

from __future__ import annotations

import math

import torch

from .base import WeightSpec
from .hybrid import HybridCodeModel


class JointVAE(HybridCodeModel):
    name = "joint_vae"
    summary = "hybrid-code VAE whose KL terms are pushed to capacities that grow during training"
    weights = (
        WeightSpec("beta", default=5.0, low=0.1, high=100.0, doc="weight of |KL_z - C_z|"),
        WeightSpec("gamma", default=5.0, low=0.1, high=100.0, doc="weight of |KL_y - C_y| and VAT"),
    )
    adaptive = {}
    option_defaults = HybridCodeModel.option_defaults | {"capacity_z": 5.0, "capacity_y": 5.0, "capacity_steps": 25000}

    def __init__(self, image_shape, generator, capacity_z: float = 5.0, capacity_y: float = 5.0, capacity_steps: int = 25000, **options) -> None:
        super().__init__(image_shape, generator, **options)
        if not self.categories:
            raise ValueError("joint_vae needs a categorical code: categories >= 2")
        if capacity_z < 0 or capacity_y < 0 or capacity_steps < 1:
            raise ValueError("joint_vae: capacities must be >= 0 and capacity_steps >= 1")
        self.capacity_z = capacity_z
        self.capacity_y = min(capacity_y, math.log(self.categories))
        self.capacity_steps = capacity_steps
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))

    def objective(self, parts, weights):
        progress = (self.steps.float() / self.capacity_steps).clamp(max=1.0)
        self.steps += 1
        kl_z, kl_y = self.kl_z_conditional(parts), self.kl_y_conditional(parts)
        terms = {
            "loss/kl_z": kl_z,
            "loss/kl_y": kl_y,
            "loss/vat": self.vat_loss(parts["x"], parts["probs"]),
            "capacity/z": progress * self.capacity_z,
            "capacity/y": progress * self.capacity_y,
        }
        total = (
            parts["recon"]
            + weights["beta"] * (kl_z - terms["capacity/z"]).abs()
            + weights["gamma"] * ((kl_y - terms["capacity/y"]).abs() + terms["loss/vat"])
        )
        return total, terms
