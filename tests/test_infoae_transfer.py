"""results/reproduction/infoae_transfer.py: a generator whose conditions draw what the real images show
carries over (a classifier trained on its images reads the real ones); one that draws something else does not.
results/reproduction/infoae_samples.py: a generator that ignores its noise draws no variety within a condition."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import torch
from torch import nn

SCRIPT = Path(__file__).resolve().parents[1] / "results" / "reproduction" / "infoae_transfer.py"
BLOCKS = 4  # conditions; condition c draws a bright horizontal band over rows 7c..7c+6 of a 28x28 image


def band_masks(vertical: bool = False, blocks: int = BLOCKS) -> torch.Tensor:
    masks, width = torch.zeros(blocks, 28, 28), 28 // blocks
    for c in range(blocks):
        if vertical:
            masks[c, :, width * c:width * (c + 1)] = 1
        else:
            masks[c, width * c:width * (c + 1), :] = 1
    return masks


class BandModel(nn.Module):
    """What infoae_transfer reads of an InfoAE: G (conditions -> codes near one-hot), D (a band per condition),
    E (each band's mean ink, so E inverts D) and C (argmax)."""

    def __init__(self, blocks: int = BLOCKS) -> None:
        super().__init__()
        self.categories = blocks
        masks = band_masks(blocks=blocks).flatten(1)
        self.decoder = nn.Sequential(nn.Linear(blocks, 28 * 28), nn.Unflatten(1, (1, 28, 28)))
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, blocks, bias=False))
        with torch.no_grad():
            self.decoder[0].weight.copy_(12 * masks.T)
            self.decoder[0].bias.fill_(-6.0)
            self.encoder[1].weight.copy_(masks / masks.sum(dim=1, keepdim=True))
        self.condition_logits = nn.Identity()

    def _generate(self, noise: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return nn.functional.one_hot(labels, self.categories).float() + 0.1 * noise[:, :self.categories]


def real_images(vertical: bool, n: int = 1000, blocks: int = BLOCKS) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(7)
    labels = torch.randint(blocks, (n,), generator=generator)
    ink = 0.8 + 0.2 * torch.rand((n, 1, 1), generator=generator)
    images = (band_masks(vertical, blocks)[labels] * ink).unsqueeze(1)
    return images + 0.05 * torch.rand(images.shape, generator=generator), labels


def test_transfer_is_high_when_the_generated_images_show_what_real_ones_do_and_low_when_not(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    transfer_row = importlib.import_module("infoae_transfer").transfer_row
    torch.manual_seed(0)
    model = BandModel()
    same = transfer_row(model, *real_images(vertical=False), count=2000, epochs=2, seed=0)
    assert same["transfer_acc"] > 0.95 and same["cluster_acc"] > 0.95 and same["agreement"] > 0.95
    assert same["generated_acc"] > 0.95 and same["recovered"] > 0.95
    assert same["cycle_error"] < 0.1  # E reads back the code D drew
    other = transfer_row(model, *real_images(vertical=True), count=2000, epochs=2, seed=0)
    assert other["transfer_acc"] < 0.6 and other["cluster_acc"] < 0.6
    assert other["generated_acc"] > 0.95  # the conditions stay learnable on generated images


def test_transfer_reads_more_conditions_than_ten(monkeypatch):
    """An InfoAE with 30 conditions: the fresh classifier must learn every condition, not ten classes (it
    failed with an index error before), and a label outside its classes is refused by name."""
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    transfer_row = importlib.import_module("infoae_transfer").transfer_row
    torch.manual_seed(0)
    real = real_images(vertical=False, blocks=14)
    reader = importlib.import_module("benchmarks.infoae_generated_classes").train_oracle(*real, epochs=2, classes=14)
    row = transfer_row(BandModel(blocks=14), *real, count=2000, epochs=2, seed=0, oracle=reader)
    assert row["generated_acc"] > 0.9 and row["transfer_acc"] > 0.9
    assert row["purity"] == row["purity_many_to_one"] > 0.9  # each condition draws its own band: both rules agree
    train_oracle = importlib.import_module("benchmarks.infoae_generated_classes").train_oracle
    with pytest.raises(ValueError, match="labels must lie in 0..9"):
        train_oracle(torch.zeros(2, 1, 28, 28), torch.tensor([0, 12]), epochs=0)


def test_within_digit_spread_is_zero_for_copies_and_grows_with_variety(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    spread = importlib.import_module("infoae_transfer").within_digit_spread
    images, digits = real_images(vertical=False, n=400)
    assert spread(images[:1].repeat(10, 1, 1, 1), torch.zeros(10, dtype=torch.long)) == 0.0
    narrow = band_masks()[digits].unsqueeze(1)  # each digit drawn one way only
    assert spread(narrow, digits) < 1e-12 < spread(images, digits)


class NoiselessBandModel(BandModel):
    """The band model whose generator ignores its noise: one image per condition."""

    def _generate(self, noise: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return nn.functional.one_hot(labels, BLOCKS).float()


class NoisyBandModel(BandModel):
    """The band model whose noise moves every band's ink visibly."""

    def _generate(self, noise: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return nn.functional.one_hot(labels, BLOCKS).float() + 0.5 * noise[:, :BLOCKS]


def test_condition_spread_is_zero_when_the_generator_ignores_its_noise(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    sample_row = importlib.import_module("infoae_samples").sample_row
    real = real_images(vertical=False)
    ignores = sample_row(NoiselessBandModel(), *real, count=500)
    slightly, uses = sample_row(BandModel(), *real, count=500), sample_row(NoisyBandModel(), *real, count=500)
    assert ignores["condition_spread"] < 1e-9 and ignores["noise_share"] < 1e-9 and ignores["code_spread"] < 1e-9
    assert 0 < slightly["code_spread"] < uses["code_spread"]
    assert 0 < slightly["condition_spread"] < uses["condition_spread"]
    assert 0 < slightly["noise_share"] < uses["noise_share"] < 1
    # one image per condition still spreads a batch about as much as real images do: a batch-wide statistic misses the collapse
    assert ignores["total_spread"] > 0.5 and ignores["total_spread"] > 1e6 * ignores["condition_spread"]


def transfer_table(path: Path, purities: list[float], tag: str) -> Path:
    """An infoae_transfer.py table with one row per seed (only the purity and cluster columns vary)."""
    lines = ["| trial | epoch | purity | cluster_acc | seconds |", "|---|---:|---:|---:|---:|"]
    lines += [f"| infoae-{tag}-seed={seed}-abc | 8 | {purity:.3f} | 0.500 | 100 |" for seed, purity in enumerate(purities)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_transfer_arms_pairs_the_two_tables_by_seed(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    module = importlib.import_module("transfer_arms")
    arm = module.transfer_rows([transfer_table(tmp_path / "a.md", [0.70, 0.62, 0.81, 0.55], "a")])
    baseline = module.transfer_rows([transfer_table(tmp_path / "b.md", [0.60, 0.50, 0.72, 0.44], "b")])
    purity, cluster = module.compare(arm, baseline)
    assert purity["measure"] == "purity" and purity["difference"] == pytest.approx(0.105)
    assert purity["low"] < purity["difference"] < purity["high"] and purity["p"] < 0.001  # a steady gain in every seed
    assert (cluster["difference"], cluster["low"], cluster["high"], cluster["p"]) == (0, 0, 0, 1)  # a range of 0: no NaN
    (tmp_path / "empty.md").write_text("no table here\n")
    with pytest.raises(SystemExit, match="no infoae_transfer.py rows"):
        module.transfer_rows([tmp_path / "empty.md"])


def test_purity_is_many_to_one_with_more_conditions_than_digits(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    condition_purity = importlib.import_module("infoae_transfer").condition_purity
    conditions = torch.arange(3000) % 30
    assert condition_purity((conditions % 10).numpy(), conditions.numpy()) == 1.0  # each condition draws one digit
    mixed = torch.where(torch.arange(3000) // 30 % 4 == 0, (conditions + 1) % 10, conditions % 10)
    assert condition_purity(mixed.numpy(), conditions.numpy()) == pytest.approx(0.75)  # a quarter of each is another digit
    ten = torch.arange(1000) % 10
    assert condition_purity(ten.numpy(), ((ten + 3) % 10).numpy()) == 1.0  # ten conditions: one-to-one, any naming
    assert condition_purity(ten.numpy(), (ten // 2).numpy()) == 0.5  # two digits per condition, one-to-one
    never_a_nine = torch.where(ten == 9, torch.tensor(8), ten)  # conditions 8 and 9 both draw 8s
    assert condition_purity(never_a_nine.numpy(), ten.numpy()) == 0.9  # one-to-one still: condition 9 matches no digit


def test_transfer_arms_reads_one_arm_of_a_kmeans_table_and_refuses_mixed_arms(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    module = importlib.import_module("transfer_arms")
    lines = ["| trial | epoch | conditions | C(E(x)) | k-means 10 | k-means 30 |", "|---|---:|---:|---:|---:|---:|"]
    values = {"alpha=3": (0.45, 0.47, 0.50), "alpha=1": (0.40, 0.41, 0.42)}
    lines += [f"| infoae-{tag}-seed={seed}-abc | 8 | 10 | 0.5 | {value:.2f} | 0.6 |"
              for tag, column in values.items() for seed, value in enumerate(column)]
    (tmp_path / "kmeans.md").write_text("\n".join(lines) + "\n")
    arm = module.transfer_rows([tmp_path / "kmeans.md"], "alpha=3")
    baseline = module.transfer_rows([tmp_path / "kmeans.md"], "alpha=1")
    by_measure = {row["measure"]: row for row in module.compare(arm, baseline)}
    assert set(by_measure) == {"C(E(x))", "k-means 10", "k-means 30"}
    assert by_measure["k-means 10"]["difference"] == pytest.approx(0.19 / 3)  # the alpha=3 rows less the alpha=1 rows
    assert by_measure["k-means 30"]["p"] == 1  # equal in every seed
    with pytest.raises(SystemExit, match="seed 0 twice"):
        module.transfer_rows([tmp_path / "kmeans.md"])
    with pytest.raises(SystemExit, match="containing 'gamma'"):
        module.transfer_rows([tmp_path / "kmeans.md"], "gamma")
