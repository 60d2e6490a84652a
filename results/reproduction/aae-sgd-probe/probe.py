"""Stability probe of momentum SGD (momentum 0.9) for the phased AAE: 300 steps on MNIST at a
given reconstruction / regularisation / adversary rate, printing the losses and how many of the
16 clusters take more than 1% of 2,000 training images every 50 steps. Not a study: it decides
whether a momentum-SGD run is worth its CPU hours.

Usage: STUDY_DATA_ROOT=<data> PYTHONPATH=. python results/reproduction/aae-sgd-probe/probe.py LR GEN_LR DISC_LR
"""

import sys
import time

import torch

from trainables.datasets import load_dataset
from trainables.methods import get_method

torch.set_num_threads(1)
lr, gen_lr, disc_lr = map(float, sys.argv[1:4])
splits = load_dataset("mnist")
x = splits.train.images
torch.manual_seed(0)
method = get_method("aae")(
    splits.train.image_shape, torch.Generator().manual_seed(0), clusters=16, style_dim=5, hidden=1000,
    update="phased", optimizer="sgd", momentum=0.9, lr=lr, gen_lr=gen_lr, disc_lr=disc_lr,
)
weights = {"adv_weight": torch.tensor(1.0)}
started = time.time()
for step in range(301):
    batch = x[torch.randint(0, x.shape[0], (100,))]
    losses = method.train_step(batch, weights)
    if step % 50 == 0:
        with torch.no_grad():
            used = method.encode(x[:2000]).probs.argmax(1).bincount(minlength=16)
        print(step, {k: round(float(v), 3) for k, v in losses.items()}, "clusters used", int((used > 20).sum()),
              f"{time.time() - started:.0f}s", flush=True)
