"""Tests for the real-data loaders: digits (bundled) and MNIST IDX files the tests write."""

from __future__ import annotations

import gzip
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from adamlab.tasks.data import MNIST_FILES, load_digits, load_idx, load_mnist, standardise


def write_idx(path: Path, array: np.ndarray, *, compress: bool) -> Path:
    """Write ``array`` (uint8) as IDX: magic 0x0000 08 ndim, big-endian uint32 sizes, data."""
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(payload))
    else:
        path.write_bytes(payload)
    return path


def test_magic_numbers_are_the_mnist_ones(tmp_path: Path) -> None:
    images = write_idx(tmp_path / "i", np.zeros((2, 3, 4)), compress=False)
    labels = write_idx(tmp_path / "l", np.zeros(2), compress=False)
    assert images.read_bytes()[:4] == bytes.fromhex("00000803")
    assert labels.read_bytes()[:4] == bytes.fromhex("00000801")


@pytest.mark.parametrize("compress", [False, True])
def test_load_idx_round_trips(tmp_path: Path, compress: bool) -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(5, 3, 4), dtype=np.uint8)
    path = write_idx(tmp_path / "images", images, compress=compress)
    loaded = load_idx(path)
    assert loaded.dtype == np.uint8
    np.testing.assert_array_equal(loaded, images)


@pytest.mark.parametrize("compress", [False, True])
def test_load_mnist_reads_the_four_files(tmp_path: Path, compress: bool) -> None:
    rng = np.random.default_rng(1)
    train = rng.integers(0, 256, size=(6, 28, 28), dtype=np.uint8)
    test = rng.integers(0, 256, size=(4, 28, 28), dtype=np.uint8)
    train_labels, test_labels = np.arange(6) % 10, np.array([9, 0, 1, 2])
    for stem, array in zip(MNIST_FILES, (train, train_labels, test, test_labels), strict=True):
        write_idx(tmp_path / stem, array, compress=compress)
    data = load_mnist(tmp_path)
    assert data.x_train.shape == (6, 784) and data.x_test.shape == (4, 784)
    assert data.x_train.dtype == np.float32
    np.testing.assert_allclose(data.x_train, train.reshape(6, -1) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(data.y_test, test_labels)
    assert data.n_classes == 10


def test_load_idx_rejects_bad_files(tmp_path: Path) -> None:
    bad_magic = tmp_path / "bad"
    bad_magic.write_bytes(b"\x12\x34\x08\x01" + struct.pack(">I", 1) + b"\x00")
    with pytest.raises(ValueError, match="not an IDX file"):
        load_idx(bad_magic)
    truncated = tmp_path / "short"
    truncated.write_bytes(struct.pack(">I", 0x0801) + struct.pack(">I", 5) + b"\x00\x01")
    with pytest.raises(ValueError, match="IDX header says"):
        load_idx(truncated)


def test_load_mnist_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        load_mnist(tmp_path)


def test_digits_split_is_fixed_and_stratified() -> None:
    first, second = load_digits(), load_digits()
    np.testing.assert_array_equal(first.x_train, second.x_train)
    assert first.x_train.shape == (1437, 64) and first.x_test.shape == (360, 64)
    assert first.x_train.min() >= 0.0 and first.x_train.max() <= 1.0
    assert set(np.bincount(first.y_test)) <= {35, 36, 37}


def test_standardise_uses_training_statistics() -> None:
    data = standardise(load_digits())
    varying = data.x_train.std(axis=0) > 0
    np.testing.assert_allclose(data.x_train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(data.x_train.std(axis=0)[varying], 1.0, rtol=1e-4)


def test_digits_without_scikit_learn_is_one_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from adamlab.cli import main

    # a None entry in sys.modules makes the import raise ImportError
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ValueError, match=r"adamlab\[papers\]"):
        load_digits()
    capsys.readouterr()
    assert main(["paper", "adam", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "scikit-learn" in err
