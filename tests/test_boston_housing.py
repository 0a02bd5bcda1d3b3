"""Coursework Q1: metrics against stored baselines, data pipeline, run folder, reproducibility."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from experiments.boston_housing import prepare_data, run
from mlpkit.config import compose_config
from mlpkit.runs import read_metrics

REGRESSED = ["val/mse", "val/mae", "test/mse", "test/mae", "best_epoch", "epochs_run"]
# Same machine, same seed: identical numbers. The tolerances allow another CPU's rounding;
# a change that makes a result worse by more than this fails.
TOLERANCES = {
    **{k: {"rtol": 0.02} for k in REGRESSED[:4]},
    "best_epoch": {"atol": 3},
    "epochs_run": {"atol": 3},
}


@pytest.mark.parametrize("variant", ["default", "raw_inputs", "input_batchnorm"])
def test_metrics_match_baseline(boston_runs: dict, variant: str, num_regression) -> None:
    metrics = boston_runs[variant]
    num_regression.check(
        {k.replace("/", "_"): [float(metrics[k])] for k in REGRESSED},
        basename=f"boston_housing_{variant}",
        tolerances={k.replace("/", "_"): v for k, v in TOLERANCES.items()},
    )


def test_default_config_reaches_the_bar(boston_runs: dict) -> None:
    assert boston_runs["default"]["val/mae"] <= 2.6
    assert not boston_runs["default"]["diverged"]


def test_raw_inputs_diverge_and_keep_no_model(boston_runs: dict) -> None:
    """Nesterov SGD at 1e-3 on unscaled features (TAX ~ 700) blows up within the first epoch."""
    raw = boston_runs["raw_inputs"]
    assert raw["diverged"] and raw["epochs_run"] == 1 and np.isnan(raw["val/mae"])
    assert not (Path(raw["run_dir"]) / "best_model.keras").exists()
    assert json.loads((Path(raw["run_dir"]) / "metrics.json").read_text())["val/mae"] is None


def test_run_folder_holds_every_artifact(boston_runs: dict) -> None:
    metrics = boston_runs["default"]
    run_dir = Path(metrics["run_dir"])
    for name in (
        "config.yaml",
        "metrics.json",
        "history.csv",
        "learning_curves.png",
        "best_model.keras",
        "report.md",
    ):
        assert (run_dir / name).is_file(), name
    assert read_metrics(run_dir)["val/mae"] == pytest.approx(metrics["val/mae"])
    history = pd.read_csv(run_dir / "history.csv", index_col="epoch")
    assert list(history.columns) == [
        "train/loss",
        "train/mae",
        "val/loss",
        "val/mae",
        "epoch_seconds",
    ]
    assert history["epoch_seconds"].sum() <= metrics["wall_time_s"]
    assert len(history) == metrics["epochs_run"]
    assert history["val/mae"].idxmin() == metrics["best_epoch"]
    assert history["val/mae"].min() == pytest.approx(metrics["val/mae"], rel=1e-5)
    report = (run_dir / "report.md").read_text()
    assert f"{metrics['val/mae']:.4g}" in report and "learning_curves.png" in report


def test_best_model_file_is_the_restored_model(boston_runs: dict) -> None:
    metrics = boston_runs["default"]
    data = prepare_data(compose_config("boston_housing"))
    model = keras.models.load_model(Path(metrics["run_dir"]) / "best_model.keras")
    mse, mae = model.evaluate(data["val"], verbose=0)
    assert mae == pytest.approx(metrics["val/mae"], rel=1e-6)
    assert mse == pytest.approx(metrics["val/mse"], rel=1e-6)


def test_tensorboard_events_hold_scalars_and_weight_histograms(boston_runs: dict) -> None:
    tensorboard = Path(boston_runs["default"]["run_dir"]) / "tensorboard"
    train = EventAccumulator(str(tensorboard / "train"), size_guidance={"tensors": 0}).Reload()
    val = EventAccumulator(str(tensorboard / "validation"), size_guidance={"tensors": 0}).Reload()
    tags = set(train.Tags()["tensors"])
    assert {"epoch_loss", "epoch_mae", "epoch_learning_rate"} <= tags
    assert {"epoch_loss", "epoch_mae"} <= set(val.Tags()["tensors"])
    histograms = {t for t in tags if t.endswith("/histogram")}
    layers = ("hidden_1", "hidden_2", "price")
    assert histograms == {
        f"boston_mlp/{layer}/{w}/histogram" for layer in layers for w in ("kernel", "bias")
    }
    top = EventAccumulator(str(tensorboard)).Reload()
    assert "_hparams_/session_start_info" in top.PluginTagToContent("hparams")
    assert {"val/mae", "val/mse", "test/mae"} <= set(top.Tags()["tensors"])
    epochs = boston_runs["default"]["epochs_run"]
    assert len(val.Tensors("epoch_mae")) == epochs
    assert len(train.Tensors("boston_mlp/hidden_1/kernel/histogram")) == epochs


def test_data_pipeline(compose) -> None:
    data = prepare_data(compose("boston_housing"))
    assert data["sizes"] == {"train": 303, "val": 101, "test": 102}
    spec = data["train"].element_spec
    assert spec[0] == tf.TensorSpec((None, 13), tf.float32)
    assert spec[1] == tf.TensorSpec((None, 1), tf.float32)
    x_train = np.concatenate([x for x, _ in data["train"]])
    x_val = np.concatenate([x for x, _ in data["val"]])
    # Standardised with the training part's statistics only: exact there, not on validation.
    np.testing.assert_allclose(x_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(x_train.std(axis=0), 1, atol=1e-5)
    assert np.abs(x_val.mean(axis=0)).max() > 0.05
    assert [len(x) for x, _ in data["train"]] == [32] * 9 + [15]
    first_epoch = np.concatenate([y for _, y in data["train"]])
    second_epoch = np.concatenate([y for _, y in data["train"]])
    assert not np.array_equal(first_epoch, second_epoch)  # reshuffled every epoch
    np.testing.assert_array_equal(np.sort(first_epoch, axis=0), np.sort(second_epoch, axis=0))


def test_raw_data_pipeline_is_not_standardised(compose) -> None:
    data = prepare_data(compose("boston_housing", ["data.standardize=false"]))
    x_train = np.concatenate([x for x, _ in data["train"]])
    assert x_train[:, 9].mean() > 300  # TAX, in dollars per $10,000


def test_same_seed_same_metrics(compose) -> None:
    short = ["training.epochs=4", "training.early_stopping.enabled=false"]
    first = run(compose("boston_housing", short))
    second = run(compose("boston_housing", short))
    assert first["run_dir"] != second["run_dir"]  # nothing overwrites an earlier run
    for key in ("val/mse", "val/mae", "test/mae"):
        assert first[key] == second[key]
    other_seed = run(compose("boston_housing", [*short, "seed=7"]))
    assert other_seed["val/mae"] != first["val/mae"]
