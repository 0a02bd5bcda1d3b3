"""Boston housing data: Keras's exact split from the registry fallback, and clear file errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mlpkit import datasets
from mlpkit.datasets import BOSTON_HOUSING_CSV, DataFileError, load_boston_housing


@pytest.fixture
def offline_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Take the fallback path even where Keras could download (it cannot here)."""
    monkeypatch.setattr(datasets, "_KERAS_FAILED", {"boston_housing"})


def test_boston_split_identical_to_keras(offline_fallback: None) -> None:
    (x_train, y_train), (x_test, y_test) = load_boston_housing()
    assert x_train.shape == (404, 13) and x_test.shape == (102, 13)
    assert y_train.shape == (404,) and y_test.shape == (102,)
    assert x_train.dtype == np.float64 and y_train.dtype == np.float64
    np.testing.assert_array_equal(
        x_train[0], [1.23247, 0, 8.14, 0, 0.538, 6.142, 91.7, 3.9769, 4, 307, 21, 396.9, 18.72]
    )
    np.testing.assert_array_equal(y_train[:3], [15.2, 42.3, 50.0])


def test_boston_split_arguments_follow_keras(offline_fallback: None) -> None:
    def all_rows(split: tuple) -> np.ndarray:
        (x_train, y_train), (x_test, y_test) = split
        x, y = np.concatenate([x_train, x_test]), np.concatenate([y_train, y_test])
        table = np.column_stack([x, y])
        return np.unique(table, axis=0)  # sorted rows

    half = load_boston_housing(test_split=0.5, seed=0)
    default = load_boston_housing()
    assert len(half[0][0]) == 253 and len(half[1][0]) == 253
    assert not np.array_equal(half[0][0][:5], default[0][0][:5])  # another shuffle
    np.testing.assert_array_equal(all_rows(half), all_rows(default))  # of the same 506 rows
    assert len(all_rows(default)) == 506


def test_missing_file_names_file_and_fix(
    offline_fallback: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLPKIT_DATA_DIR", str(tmp_path))
    with pytest.raises(DataFileError) as error:
        load_boston_housing()
    message = str(error.value)
    assert "\n" not in message
    assert str(tmp_path / BOSTON_HOUSING_CSV.name) in message
    assert "missing" in message and "python -m mlpkit.fetch_data boston_housing" in message


def test_corrupted_file_is_rejected(
    offline_fallback: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = datasets.verified_path(BOSTON_HOUSING_CSV).read_bytes()
    monkeypatch.setenv("MLPKIT_DATA_DIR", str(tmp_path))
    (tmp_path / BOSTON_HOUSING_CSV.name).write_bytes(good.replace(b"1.5", b"1.6", 1))
    with pytest.raises(DataFileError, match="corrupted .*SHA-256.*delete it"):
        load_boston_housing()


def test_invalid_test_split() -> None:
    with pytest.raises(ValueError, match="test_split"):
        load_boston_housing(test_split=1.0)
