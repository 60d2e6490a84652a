"""Does the AAE's one-cluster collapse on digits (digits-aae-sensitivity: 14.2% in all 48 trials)
go away with instance noise on the adversaries' inputs (the `disc_noise` option)? The study's
options (10 clusters, 10-d style, MLP 500, joint update, Adam 1e-3, batch 64, 40 epochs,
360 evaluation images) at adv_weight 1 and 10, without and with noise 0.3, three seeds each;
one JSON line per trial with its final metrics. Runs in about 10 minutes on one core.

Usage: PYTHONPATH=. python results/digits-sensitivity/aae-noise-probe/probe.py > results.jsonl
       PYTHONPATH=. python results/digits-sensitivity/aae-noise-probe/probe.py 0.1 0.6 1.0 --weight 1 >> results.jsonl
(noise levels as arguments, and --weight to run one adv_weight; the default: 0 and 0.3 at 1 and 10)
"""

import json
import sys

import torch

from trainables.datasets import load_dataset
from trainables.trial import Trial

torch.set_num_threads(1)
splits = load_dataset("digits")
arguments = sys.argv[1:]
WEIGHTS = [float(arguments.pop(arguments.index("--weight") + 1))] if "--weight" in arguments else [1.0, 10.0]
NOISES = [float(a) for a in arguments if a != "--weight"] or [0.0, 0.3]
OPTIONS = {"clusters": 10, "style_dim": 10, "hidden": 500, "lr": 0.001, "disc_lr": 0.001, "update": "joint"}
for noise in NOISES:
    for weight in WEIGHTS:
        for seed in (0, 1, 2):
            config = {"method": "aae", "weighting": "fixed", "weights": {"adv_weight": weight}, "seed": seed, "epochs": 40,
                      "batch_size": 64, "eval_every": 40, "eval_size": 360, "options": {**OPTIONS, "disc_noise": noise}}
            trial = Trial(config, splits)
            for _ in range(40):
                metrics = trial.train_epoch()
            print(json.dumps({"disc_noise": noise, "adv_weight": weight, "seed": seed, "cluster_acc": metrics.get("cluster_acc"),
                              "mi_x_y": metrics.get("mi_x_y"), "recon_bce": metrics.get("recon_bce"),
                              "disc_acc": metrics.get("disc_acc/adv")}), flush=True)
