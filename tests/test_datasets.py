import numpy as np
import pytest
import torch

from trainables.datasets import DataError, load_dataset
from trainables.datasets.dsprites import FACTOR_NAMES, FULL_SIZES, factor_grid


def test_dsprites_factor_grid_shapes_and_labels():
    splits = load_dataset("dsprites", resolution=32, sizes={"scale": 2, "orientation": 4, "position_x": 3, "position_y": 5})
    both = torch.cat([splits.train.factors, splits.test.factors])
    assert both.shape == (3 * 2 * 4 * 3 * 5, 5)
    assert splits.train.factor_sizes == (3, 2, 4, 3, 5)
    assert splits.train.factor_names == FACTOR_NAMES
    # every combination appears exactly once across the two splits
    assert len({tuple(r) for r in both.tolist()}) == both.shape[0]
    assert splits.train.images.shape[1:] == (1, 32, 32)
    assert splits.train.images.min() >= 0 and splits.train.images.max() == 1
    assert torch.equal(splits.train.labels, splits.train.factors[:, 0])


def test_dsprites_is_deterministic_and_factors_change_pixels():
    a = load_dataset("dsprites", resolution=16, sizes={"orientation": 2, "position_x": 2, "position_y": 2, "scale": 2})
    b = load_dataset("dsprites", resolution=16, sizes={"orientation": 2, "position_x": 2, "position_y": 2, "scale": 2})
    assert torch.equal(a.train.images, b.train.images) and torch.equal(a.test.factors, b.test.factors)
    images = torch.cat([a.train.images, a.test.images])
    assert len({img.numpy().tobytes() for img in images}) > images.shape[0] // 2


def test_full_factor_grid_matches_dsprites():
    assert [len(g) for g in factor_grid(None)] == list(FULL_SIZES)
    assert factor_grid({"orientation": 4})[2].tolist() == [0, 10, 20, 30]


def test_dsprites_npz_loader_reads_the_official_layout(tmp_path):
    # full-grid indices as in the official file: orientation of 40 values, positions of 32
    classes = np.array([[0, s, sc, o, x, y] for s in range(3) for sc in (0, 5) for o in (0, 20) for x in (0, 31) for y in (0, 15, 31)])
    imgs = np.random.default_rng(0).integers(0, 2, size=(len(classes), 64, 64), dtype=np.uint8)
    path = tmp_path / "dsprites.npz"
    np.savez(path, imgs=imgs, latents_classes=classes, latents_values=classes.astype(float))
    splits = load_dataset("dsprites", path=str(path), sizes={"scale": 1, "orientation": 2, "position_x": 2, "position_y": 2}, test_fraction=0.25)
    assert len(splits.train) + len(splits.test) == 3 * 1 * 2 * 2 * 2  # scale 5 and position_y 15 are off the sub-grid
    assert splits.train.factor_sizes == (3, 1, 2, 2, 2)
    assert set(torch.cat([splits.train.factors, splits.test.factors])[:, 4].tolist()) == {0, 1}
    assert splits.train.images.shape[1:] == (1, 64, 64)


def test_missing_npz_names_the_path(tmp_path):
    with pytest.raises(DataError, match="no archive at"):
        load_dataset("dsprites", path=str(tmp_path / "absent.npz"))


def test_digits():
    splits = load_dataset("digits")
    assert len(splits.train) + len(splits.test) == 1797
    assert splits.train.images.shape[1:] == (1, 8, 8) and float(splits.train.images.max()) == 1.0
    assert splits.test.num_classes == 10


def test_mnist_from_data_root(data_root):
    splits = load_dataset("mnist", root=str(data_root))
    assert splits.train.images.shape == (60000, 1, 28, 28) and len(splits.test) == 10000
    assert 0.0 <= float(splits.test.images.min()) and float(splits.test.images.max()) == 1.0
    assert sorted(splits.test.labels.unique().tolist()) == list(range(10))


def test_fashion_mnist_from_environment(data_root, monkeypatch):
    monkeypatch.setenv("STUDY_DATA_ROOT", str(data_root))
    splits = load_dataset("fashion_mnist")
    assert len(splits.test) == 10000


def test_validation_holds_out_training_images_and_leaves_the_test_set_alone(data_root):
    full = load_dataset("mnist", root=str(data_root))
    splits = load_dataset("mnist", root=str(data_root), validation=5000)
    assert len(splits.train) == 55000 and len(splits.test) == 5000
    assert "held-out training images" in splits.info["evaluation"]
    # the held-out images are training images, none of them in what is trained on, and no test image is used
    rows = lambda images: {bytes(row) for row in (images.flatten(1) * 255).round().to(torch.uint8).numpy()}  # noqa: E731
    held_out, kept, train, test = rows(splits.test.images), rows(splits.train.images), rows(full.train.images), rows(full.test.images)
    assert len(held_out) == 5000 and held_out <= train and not held_out & kept and not held_out & test
    again = load_dataset("mnist", root=str(data_root), validation=5000)
    assert torch.equal(again.test.labels, splits.test.labels)  # the same images on every load
    for bad in (-1, 60000, 2.5, True):
        with pytest.raises(DataError, match="validation must be a whole number"):
            load_dataset("mnist", root=str(data_root), validation=bad)


def test_missing_mnist_files_say_where_and_how(tmp_path):
    with pytest.raises(DataError, match=r"expected .* in .*MNIST.*raw.*download"):
        load_dataset("mnist", root=str(tmp_path))


def test_no_data_root_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("STUDY_DATA_ROOT", raising=False)
    with pytest.raises(DataError, match="STUDY_DATA_ROOT"):
        load_dataset("mnist")


def test_unknown_dataset_and_option():
    with pytest.raises(DataError, match="unknown dataset"):
        load_dataset("cifar")
    with pytest.raises(DataError, match="digits"):
        load_dataset("digits", colour=True)


def test_evaluation_subset_is_deterministic(tiny_sprites):
    a = tiny_sprites.train.subset(20, seed=0)
    b = tiny_sprites.train.subset(20, seed=0)
    assert torch.equal(a.factors, b.factors) and len(a) == 20


def write_stl10(root, counts=None):
    """STL-10's binary layout: uint8 3x96x96 images stored column-major, labels 1..10."""
    counts = counts or {"train": 4, "test": 3, "unlabeled": 5}
    folder = root / "stl10_binary"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    images = {}
    for split, n in counts.items():
        chw = rng.integers(0, 256, size=(n, 3, 96, 96), dtype=np.uint8)
        chw[:, 0, 5, 70] = 255  # one marked pixel: row 5, column 70 of the red channel
        chw[:, 0, 70, 5] = 0
        chw.transpose(0, 1, 3, 2).tofile(folder / f"{split}_X.bin")
        images[split] = chw
        if split != "unlabeled":
            (np.arange(n, dtype=np.uint8) % 10 + 1).tofile(folder / f"{split}_y.bin")
    return images


def test_stl10_reads_torchvision_layout(tmp_path):
    written = write_stl10(tmp_path)
    splits = load_dataset("stl10", root=str(tmp_path), train_split="train", resize=96)
    assert splits.train.images.shape == (4, 3, 96, 96) and splits.test.images.shape == (3, 3, 96, 96)
    assert torch.equal(splits.train.images, torch.from_numpy(written["train"]).float() / 255)
    assert splits.train.images[0, 0, 5, 70] == 1.0 and splits.train.images[0, 0, 70, 5] == 0.0
    assert splits.test.labels.tolist() == [0, 1, 2] and splits.test.num_classes == 10
    unlabeled = load_dataset("stl10", root=str(tmp_path))  # the paper's protocol: unlabeled, resized to 64
    assert unlabeled.train.images.shape == (5, 3, 64, 64) and unlabeled.train.labels is None
    assert load_dataset("stl10", root=str(tmp_path), train_split="train+unlabeled").train.images.shape[0] == 9


def test_stl10_errors_name_the_problem(tmp_path):
    with pytest.raises(DataError, match="unlabeled_X.bin"):
        load_dataset("stl10", root=str(tmp_path))
    write_stl10(tmp_path)
    with pytest.raises(DataError, match="train_split"):
        load_dataset("stl10", root=str(tmp_path), train_split="extra")
    (tmp_path / "stl10_binary" / "test_y.bin").write_bytes(b"\x01")
    with pytest.raises(DataError, match="1 labels for 3 images"):
        load_dataset("stl10", root=str(tmp_path), train_split="train")
