"""Di's minibatch-std feature on batches of real and of generated images, per checkpoint of this pilot.

Why: with `disc_batch_std` Di could tell a batch of near-identical images from a real one only if the
feature differed between them. G draws one image per condition, but ten conditions already spread a batch
about as much as real digits do (`total_spread` in samples-epoch8.md); this reads the feature itself.

    STUDY_DATA_ROOT=<data> python results/reproduction/infoae-batch-std-pilot/di_feature.py <runs>/infoae-batch-std-pilot-*
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # infoae_transfer in results/reproduction
from infoae_transfer import generated_sample  # noqa: E402

from study.rescore import checkpointed_trials, restored_trials  # noqa: E402

BATCH, BATCHES = 64, 50  # the pilot's batch size; 3,200 images of each kind


def main() -> None:
    dataset, checkpoints = checkpointed_trials(Path(sys.argv[1]))
    for folder, _, trial, epoch in restored_trials(dataset, checkpoints):
        method = trial.method
        method.eval()
        trunk, batch_std = method.discriminator[0], method.discriminator[1]
        with torch.no_grad():
            generated, _, _ = generated_sample(method, BATCH * BATCHES, seed=0)
            real = trial.data.eval.images[: BATCH * BATCHES]
            on_real = torch.stack([batch_std(trunk(batch))[0, -1] for batch in real.split(BATCH)])
            on_generated = torch.stack([batch_std(trunk(batch))[0, -1] for batch in generated.split(BATCH)])
        print(f"{folder.name} epoch {epoch}: feature on real batches {on_real.mean():.4f} (sd {on_real.std():.4f} over batches), "
              f"on generated {on_generated.mean():.4f} (sd {on_generated.std():.4f}), ratio {on_generated.mean() / on_real.mean():.3f}")


if __name__ == "__main__":
    main()
