"""Real data sets for the paper reproductions, read from disk only: never downloaded.

* :func:`load_digits`: scikit-learn's bundled 8x8 handwritten digits (1797 images, 64 pixels
  with values 0..16, 10 classes), split once into a fixed stratified train / test split.
* :func:`load_idx` / :func:`load_mnist`: the IDX format of LeCun's MNIST files, plain or
  gzip-compressed, from a folder the user names.

Every loader returns pixels scaled to [0, 1] (digits: / 16, MNIST: / 255) as float32, so the
same models run on either; :func:`standardise` turns them into zero-mean, unit-variance
features using training-set statistics only.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]

#: IDX type codes (third byte of the magic number) and the big-endian dtypes they stand for.
_IDX_DTYPES: dict[int, np.dtype[np.generic]] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
#: The four MNIST files (train images, train labels, test images, test labels).
MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


@dataclass(frozen=True)
class Dataset:
    """A classification data set split into train and test.

    Attributes:
        name: where it came from, for reports ("digits", "mnist").
        x_train: [n_train, d] float32 features (pixels in [0, 1] as loaded).
        y_train: [n_train] int64 class labels 0..n_classes - 1.
        x_test: [n_test, d] float32 features.
        y_test: [n_test] int64 labels.
    """

    name: str
    x_train: FloatArray
    y_train: IntArray
    x_test: FloatArray
    y_test: IntArray

    @property
    def n_features(self) -> int:
        """d, the number of input features."""
        return int(self.x_train.shape[1])

    @property
    def n_classes(self) -> int:
        """The number of classes (largest label + 1)."""
        return int(max(self.y_train.max(), self.y_test.max())) + 1


def load_digits(test_fraction: float = 0.2, split_seed: int = 0) -> Dataset:
    """scikit-learn's bundled digits (offline), pixels / 16, a fixed stratified split.

    Args:
        test_fraction: share of the 1797 images held out for testing.
        split_seed: seed of the split; the default gives the split every report uses.

    >>> data = load_digits()
    >>> data.x_train.shape, data.x_test.shape, data.n_classes
    ((1437, 64), (360, 64), 10)
    """
    try:
        from sklearn.datasets import load_digits as sklearn_digits
        from sklearn.model_selection import train_test_split
    except ImportError:
        raise ValueError(
            "the digits data ships with scikit-learn, which is not installed: "
            'pip install "adamlab[papers]"'
        ) from None

    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"Invalid test_fraction: {test_fraction} (expected 0 < fraction < 1)")
    bunch = sklearn_digits()
    x = (np.asarray(bunch.data, dtype=np.float64) / 16.0).astype(np.float32)
    y = np.asarray(bunch.target, dtype=np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_fraction, random_state=split_seed, stratify=y
    )
    return Dataset("digits", x_train, y_train, x_test, y_test)


def load_idx(path: str | Path) -> npt.NDArray[np.generic]:
    """Read one IDX file (plain or gzip, detected from its first two bytes) into an array.

    The format: a 4-byte magic number 0x0000TTNN (TT: element type, 0x08 = uint8; NN: number
    of dimensions), NN big-endian uint32 sizes, then the elements in C order, big-endian.
    MNIST images are 0x00000803 ([N, 28, 28] uint8), labels 0x00000801 ([N] uint8).

    Raises:
        ValueError: a bad magic number, an unknown type code, or a size that does not match
            the file's length.
    """
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise ValueError(f"{path}: not an IDX file (magic number {raw[:4].hex() or 'missing'})")
    type_code, ndim = raw[2], raw[3]
    if type_code not in _IDX_DTYPES:
        raise ValueError(f"{path}: unknown IDX element type 0x{type_code:02x}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header != expected:
        raise ValueError(
            f"{path}: IDX header says {shape} ({expected} bytes of data), "
            f"the file has {len(raw) - header}"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def _find(directory: Path, stem: str) -> Path:
    for name in (
        stem,
        stem + ".gz",
        stem.replace("-idx", ".idx"),
        stem.replace("-idx", ".idx") + ".gz",
    ):
        if (directory / name).is_file():
            return directory / name
    raise FileNotFoundError(f"{directory}: no {stem} or {stem}.gz (MNIST IDX files expected)")


def load_mnist(directory: str | Path) -> Dataset:
    """MNIST from the four standard IDX files in ``directory`` (each plain or ``.gz``).

    Images are flattened to [N, rows * cols] and scaled by 1 / 255; the split is MNIST's own
    (60,000 train, 10,000 test). Nothing is downloaded.

    Raises:
        FileNotFoundError: a file is missing.
        ValueError: a file is not IDX, or images and labels disagree in number.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder")
    arrays = [load_idx(_find(folder, stem)) for stem in MNIST_FILES]
    parts: list[tuple[FloatArray, IntArray]] = []
    for images, labels, stem in ((arrays[0], arrays[1], "train"), (arrays[2], arrays[3], "t10k")):
        if images.ndim < 2 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(
                f"{folder}: {stem} images {images.shape} and labels {labels.shape} do not match"
            )
        x = (images.reshape(len(images), -1).astype(np.float64) / 255.0).astype(np.float32)
        parts.append((x, labels.astype(np.int64)))
    (x_train, y_train), (x_test, y_test) = parts
    return Dataset("mnist", x_train, y_train, x_test, y_test)


def standardise(data: Dataset) -> Dataset:
    """Zero mean, unit variance per feature, with the training set's mean and std.

    Constant features (std 0, e.g. digits' always-blank corner pixels) are only centred.
    """
    mean = data.x_train.mean(axis=0, dtype=np.float64)
    std = data.x_train.std(axis=0, dtype=np.float64)
    std[std == 0] = 1.0

    def scale(x: FloatArray) -> FloatArray:
        return ((x - mean) / std).astype(np.float32)

    return Dataset(data.name, scale(data.x_train), data.y_train, scale(data.x_test), data.y_test)
