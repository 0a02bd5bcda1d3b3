"""A real TensorBoard server on the logs of short real runs, checked through its HTTP data API.

The server listens on 127.0.0.1 on a free port and is stopped in every case. What a user would
look for is checked: the runs are listed; training and validation loss and metric scalars
(with their values), weight histograms (Q1) and activation histograms (Q2) are served; the
HParams plugin knows the MNIST run's hyperparameters and its final test metrics.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

import experiments.activation_statistics as activation_statistics
import experiments.boston_housing as boston_housing
import experiments.mnist_mlp as mnist_mlp
from mlpkit.config import compose_config


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tensorboard_logs")
    common = [f"log_dir={root}"]
    boston_housing.run(
        compose_config(
            "boston_housing",
            [*common, "training.epochs=3", "training.early_stopping.enabled=false"],
        )
    )
    activation_statistics.run(
        compose_config("activation_statistics", [*common, "input_width=32", "widths=[64,64]"])
    )
    mnist_mlp.run(
        compose_config(
            "mnist_mlp",
            [*common, "data.train_limit=2000", "training.epochs=2", "model.hidden_units=[32]"],
        )
    )
    return root


@pytest.fixture(scope="module")
def server(log_dir: Path) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tensorboard.main",
            "--logdir",
            str(log_dir),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--load_fast",
            "false",
            "--reload_interval",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, f"tensorboard exited: {process.stdout.read()}"
            try:
                runs = _get(url, "/data/runs")
                if any(r.startswith("mnist_mlp/") for r in runs):
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "tensorboard did not answer within 90 s"
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def _get(url: str, path: str, **query: str) -> object:
    address = url + path + ("?" + urllib.parse.urlencode(query) if query else "")
    with urllib.request.urlopen(address, timeout=10) as response:
        return json.loads(response.read())


def _run(runs: list[str], prefix: str, suffix: str) -> str:
    (match,) = [r for r in runs if r.startswith(prefix) and r.endswith(suffix)]
    return match


def _wait_for(url: str, path: str, check) -> dict:
    """Plugins load a run's events a little after the run appears: poll until ``check``."""
    deadline = time.monotonic() + 60
    while True:
        data = _get(url, path)
        if check(data) or time.monotonic() > deadline:
            return data
        time.sleep(0.5)


def test_runs_and_scalars_are_served(server: str) -> None:
    runs = _get(server, "/data/runs")
    boston_train = _run(runs, "boston_housing/", "tensorboard/train")
    boston_val = _run(runs, "boston_housing/", "tensorboard/validation")
    mnist_top = _run(runs, "mnist_mlp/", "tensorboard")
    mnist_train = _run(runs, "mnist_mlp/", "tensorboard/train")
    tags = _wait_for(
        server, "/data/plugin/scalars/tags", lambda t: "test/accuracy" in t.get(mnist_top, {})
    )
    assert {"epoch_loss", "epoch_mae"} <= set(tags[boston_train])
    assert {"epoch_loss", "epoch_mae"} <= set(tags[boston_val])
    assert {"epoch_loss", "epoch_accuracy", "epoch_learning_rate"} <= set(tags[mnist_train])
    assert {"test/accuracy", "test/loss"} <= set(tags[mnist_top])
    points = _get(server, "/data/plugin/scalars/scalars", run=boston_val, tag="epoch_mae")
    assert [step for _, step, _ in points] == [0, 1, 2]
    assert all(value > 0 for *_, value in points)


def test_weight_and_activation_histograms_are_served(server: str) -> None:
    runs = _get(server, "/data/runs")
    boston_train = _run(runs, "boston_housing/", "tensorboard/train")
    activations = _run(runs, "activation_statistics/", "tensorboard")
    tags = _wait_for(
        server, "/data/plugin/histograms/tags", lambda t: activations in t and boston_train in t
    )
    assert "boston_mlp/hidden_1/kernel/histogram" in tags[boston_train]
    assert {
        f"activations/{init}/layer_{k}"
        for init in ("standard_normal", "glorot_normal", "glorot_uniform")
        for k in (1, 2)
    } <= set(tags[activations])
    ((_, step, buckets),) = _get(
        server,
        "/data/plugin/histograms/histograms",
        run=activations,
        tag="activations/glorot_normal/layer_2",
    )
    assert step == 0 and sum(count for *_, count in buckets) == 64


def test_hparams_are_served(server: str) -> None:
    request = json.dumps({"experimentName": ""})
    experiment = _wait_for(
        server,
        "/data/plugin/hparams/experiment?" + urllib.parse.urlencode({"request": request}),
        lambda e: bool(e.get("hparamInfos")),
    )
    names = {info["name"] for info in experiment["hparamInfos"]}
    assert {"model.hidden_units", "optimizer.learning_rate", "model.dropout"} <= names
    assert {"data.standardize", "model.input_batchnorm"} <= names  # the Q1 run's
    metrics = {info["name"]["tag"] for info in experiment["metricInfos"]}
    assert "test/accuracy" in metrics
