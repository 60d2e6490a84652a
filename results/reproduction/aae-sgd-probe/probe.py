"""Stability probe of momentum SGD (momentum 0.9) for the phased AAE: a few hundred steps on MNIST
at a given reconstruction / regularisation / adversary rate, printing the losses and how many of
the 16 clusters take more than 1% of 2,000 training images every 50 steps. Not a study: it decides
whether a momentum-SGD run is worth its CPU hours; `--optimizer adam` gives the
reference at the same rates. The options default to the first probes'
setting (Bernoulli NLL, no noise on the adversaries' inputs, 300 steps).

Usage: STUDY_DATA_ROOT=<data> PYTHONPATH=. python results/reproduction/aae-sgd-probe/probe.py LR GEN_LR DISC_LR \
           [--recon-loss squared] [--disc-noise 0.3] [--steps 300] [--optimizer adam]
"""

import argparse
import time

import torch

from trainables.datasets import load_dataset
from trainables.methods import get_method

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("lr", type=float)
parser.add_argument("gen_lr", type=float)
parser.add_argument("disc_lr", type=float)
parser.add_argument("--recon-loss", default="bernoulli", choices=["bernoulli", "squared"])
parser.add_argument("--disc-noise", type=float, default=0.0)
parser.add_argument("--steps", type=int, default=300)
parser.add_argument("--optimizer", default="sgd", choices=["sgd", "adam"], help="adam: the reference (betas 0.5/0.999)")
args = parser.parse_args()

torch.set_num_threads(1)
splits = load_dataset("mnist")
x = splits.train.images
torch.manual_seed(0)
method = get_method("aae")(
    splits.train.image_shape, torch.Generator().manual_seed(0), clusters=16, style_dim=5, hidden=1000,
    update="phased", optimizer=args.optimizer, momentum=0.9, lr=args.lr, gen_lr=args.gen_lr, disc_lr=args.disc_lr,
    recon_loss=args.recon_loss, disc_noise=args.disc_noise,
)
weights = {"adv_weight": torch.tensor(1.0)}
started = time.time()
for step in range(args.steps + 1):
    batch = x[torch.randint(0, x.shape[0], (100,))]
    losses = method.train_step(batch, weights)
    if step % 50 == 0:
        with torch.no_grad():
            used = method.encode(x[:2000]).probs.argmax(1).bincount(minlength=16)
        print(step, {k: round(float(v), 3) for k, v in losses.items()}, "clusters used", int((used > 20).sum()),
              f"{time.time() - started:.0f}s", flush=True)
