"""The MNIST MLP: exact resume after SIGKILL, metrics against baselines, TensorBoard HParams,
figures, and the learning-rate range test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from experiments.mnist_mlp import run
from mlpkit.config import ConfigError
from mlpkit.resume import finished_epochs
from tests.conftest import REPO

SHORT = [
    "data.train_limit=12000",
    "training.epochs=6",
    "model.hidden_units=[128]",
    "data.batch_size=100",
]


def test_killed_run_resumes_where_it_stopped_and_ends_the_same(tmp_path: Path, compose) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "experiments.mnist_mlp", *SHORT, f"log_dir={tmp_path}"]
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    run_dir = None
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        folders = (
            list((tmp_path / "mnist_mlp").glob("*")) if (tmp_path / "mnist_mlp").exists() else []
        )
        if folders and finished_epochs(folders[0]) >= 2:
            run_dir = folders[0]
            process.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    process.wait(timeout=30)
    assert run_dir is not None, f"no second epoch before the deadline: {process.stderr.read()}"
    killed_after = finished_epochs(run_dir)
    assert 2 <= killed_after < 6, "the kill came too late to test a resume"
    assert not (run_dir / "metrics.json").exists()

    resumed = subprocess.run(
        [sys.executable, "-m", "experiments.mnist_mlp", f"resume={run_dir}"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"resuming {run_dir} after epoch {killed_after}" in resumed.stdout
    resumed_metrics = pd.read_json(run_dir / "metrics.json", typ="series")
    assert resumed_metrics["resumed_at_epoch"] == killed_after
    assert resumed_metrics["epochs_run"] == 6

    uninterrupted = run(compose("mnist_mlp", SHORT))
    for key in ("test/accuracy", "test/loss", "val/loss", "val/accuracy"):
        assert resumed_metrics[key] == pytest.approx(uninterrupted[key], rel=1e-6, abs=1e-7), key
    epochs_resumed = pd.read_csv(run_dir / "epochs.csv").drop_duplicates("epoch", keep="last")
    epochs_straight = pd.read_csv(Path(uninterrupted["run_dir"]) / "epochs.csv")
    pd.testing.assert_series_equal(
        epochs_resumed["val_loss"].reset_index(drop=True), epochs_straight["val_loss"], rtol=1e-6
    )


@pytest.fixture(scope="module")
def short_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from mlpkit.config import compose_config

    log_dir = tmp_path_factory.mktemp("mnist_mlp_logs")
    return run(compose_config("mnist_mlp", [f"log_dir={log_dir}", *SHORT]))


def test_short_run_matches_baseline(short_run: dict, num_regression) -> None:
    keys = ["test/accuracy", "test/loss", "val/accuracy", "val/loss", "best_epoch"]
    num_regression.check(
        {k.replace("/", "_"): [short_run[k]] for k in keys},
        basename="mnist_mlp_short",
        tolerances={
            "test_accuracy": {"atol": 0.002},
            "val_accuracy": {"atol": 0.002},
            "test_loss": {"rtol": 0.02},
            "val_loss": {"rtol": 0.02},
            "best_epoch": {"atol": 1},
        },
    )
    assert short_run["test/accuracy"] > 0.9  # 12k images, 6 epochs: a sanity bar


def test_confusion_matrix_and_figures(short_run: dict) -> None:
    matrix = short_run["confusion_matrix"]
    assert sum(map(sum, matrix)) == 10000
    assert sum(matrix[i][i] for i in range(10)) / 10000 == pytest.approx(
        short_run["test/accuracy"], abs=1e-4
    )
    run_dir = Path(short_run["run_dir"])
    for name in (
        "learning_curves.png",
        "confusion_matrix.png",
        "misclassified.png",
        "best_model.keras",
        "last_model.keras",
        "report.md",
        "epochs.csv",
    ):
        assert (run_dir / name).is_file(), name
    assert not (run_dir / "backup").exists()  # deleted once training finished


def test_tensorboard_holds_scalars_learning_rate_and_hparams(short_run: dict) -> None:
    tensorboard = Path(short_run["run_dir"]) / "tensorboard"
    train = EventAccumulator(str(tensorboard / "train")).Reload()
    assert {"epoch_loss", "epoch_accuracy", "epoch_learning_rate"} <= set(train.Tags()["tensors"])
    learning_rates = [
        float(tf.make_ndarray(e.tensor_proto)) for e in train.Tensors("epoch_learning_rate")
    ]
    assert learning_rates == sorted(learning_rates, reverse=True)  # the cosine decay
    top = EventAccumulator(str(tensorboard)).Reload()
    assert {"test/accuracy", "test/loss"} <= set(top.Tags()["tensors"])
    plugins = top.PluginTagToContent("hparams")
    assert "_hparams_/session_start_info" in plugins


def test_learning_rate_range_test(compose) -> None:
    metrics = run(
        compose(
            "mnist_mlp",
            [
                "mode=lr_find",
                "data.train_limit=6400",
                "data.batch_size=64",
                "model.hidden_units=[128]",
            ],
        )
    )
    assert 1e-5 <= metrics["lr_find/suggested_learning_rate"] <= 1e-1
    assert metrics["lr_find/suggested_learning_rate"] < metrics["lr_find/min_loss_learning_rate"]
    assert (Path(metrics["run_dir"]) / "lr_find.png").is_file()


def test_resume_needs_a_run_folder(compose, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no run folder"):
        run(compose("mnist_mlp", [f"resume={tmp_path / 'nothing'}"]))
