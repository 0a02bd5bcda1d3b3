"""Overhead of the suite's helpers on Q1: the experiment against a plain Keras script.

    python -m benchmarks.boston_housing [--epochs 100] [--repeats 3]

Both train the same model (13 → 32 → 16 → 1 swish, Nesterov SGD) on the same standardised
303 training rows for a fixed number of epochs (early stopping off, so both do the same work),
alternating in one process, ``repeats`` times each. The plain script is what a student writes:
NumPy arrays into ``model.fit(..., batch_size=32, validation_data=...)``, no callbacks. The
experiment is ``experiments.boston_housing.run`` with its full default logging (TensorBoard
scalars and weight histograms every epoch, best-model checkpoint, history, figure, report).

A third row, "plain+tf.data", is the plain script fed the experiment's ``tf.data`` pipeline,
so the last ratio is what the experiment's logging costs.

Printed: median seconds per epoch of training (``fit``), and of the whole run (data, model,
fit, evaluation, files), with the ratios experiment / plain. Target: training ratio ≤ 1.1.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import keras
import numpy as np
from sklearn.model_selection import train_test_split

from experiments.boston_housing import prepare_data, run
from mlpkit.config import compose_config
from mlpkit.datasets import load_boston_housing


def plain_keras(epochs: int, seed: int, tf_data: bool = False) -> tuple[float, float]:
    """A plain Keras script of the same model on the same data; (fit seconds, total seconds).

    ``tf_data``: feed the experiment's own ``tf.data`` pipeline instead of NumPy arrays, so the
    difference to the experiment is its callbacks and files alone.
    """
    start = time.perf_counter()
    keras.utils.set_random_seed(seed)
    (x, y), _ = load_boston_housing()
    x_train, x_val, y_train, y_val = train_test_split(x, y, test_size=0.25, random_state=42)
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    x_train, x_val = (x_train - mean) / std, (x_val - mean) / std
    model = keras.Sequential(
        [
            keras.Input(shape=(13,)),
            keras.layers.Dense(32, activation="swish"),
            keras.layers.Dense(16, activation="swish"),
            keras.layers.Dense(1),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(1e-3, momentum=0.9, nesterov=True),
        loss="mse",
        metrics=["mae"],
    )
    if tf_data:
        data = prepare_data(compose_config("boston_housing", [f"seed={seed}"]))
        train, val = {"x": data["train"]}, {"x": data["val"]}
        fit_options = {"validation_data": data["val"], "shuffle": False}
    else:
        train = {"x": x_train.astype(np.float32), "y": y_train.astype(np.float32)}
        val = {"x": x_val.astype(np.float32), "y": y_val.astype(np.float32)}
        fit_options = {"validation_data": (val["x"], val["y"]), "batch_size": 32}
    fit_start = time.perf_counter()
    model.fit(**train, epochs=epochs, verbose=0, **fit_options)
    fit_seconds = time.perf_counter() - fit_start
    model.evaluate(**val, verbose=0)
    return fit_seconds, time.perf_counter() - start


def experiment(epochs: int, log_dir: str) -> tuple[float, float]:
    start = time.perf_counter()
    cfg = compose_config(
        "boston_housing",
        [
            f"log_dir={log_dir}",
            f"training.epochs={epochs}",
            "training.early_stopping.enabled=false",
        ],
    )
    metrics = run(cfg)
    return metrics["wall_time_s"], time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    times: dict[str, list[tuple[float, float]]] = {
        "plain Keras": [],
        "plain+tf.data": [],
        "experiment": [],
    }
    with tempfile.TemporaryDirectory() as log_dir:
        plain_keras(2, seed=0)  # warm-up: imports, first traces
        for _ in range(args.repeats):
            times["plain Keras"].append(plain_keras(args.epochs, seed=42))
            times["plain+tf.data"].append(plain_keras(args.epochs, seed=42, tf_data=True))
            times["experiment"].append(experiment(args.epochs, log_dir))
    per_epoch = {
        name: [(f / args.epochs, t / args.epochs) for f, t in runs] for name, runs in times.items()
    }
    print(f"{args.epochs} epochs, median of {args.repeats} alternating runs, one process")
    print(f"{'':14s} {'fit ms/epoch':>13s} {'run ms/epoch':>13s}")
    medians = {}
    for name, runs in per_epoch.items():
        medians[name] = tuple(statistics.median(r[i] for r in runs) * 1000 for i in (0, 1))
        print(f"{name:14s} {medians[name][0]:13.1f} {medians[name][1]:13.1f}")
    fit_ratio = medians["experiment"][0] / medians["plain Keras"][0]
    run_ratio = medians["experiment"][1] / medians["plain Keras"][1]
    callbacks_ratio = medians["experiment"][0] / medians["plain+tf.data"][0]
    print(
        f"ratio experiment / plain Keras: training {fit_ratio:.3f} (target <= 1.1), "
        f"whole run {run_ratio:.3f}"
    )
    print(
        f"ratio experiment / plain+tf.data (the cost of its logging): training "
        f"{callbacks_ratio:.3f}"
    )


if __name__ == "__main__":
    main()
