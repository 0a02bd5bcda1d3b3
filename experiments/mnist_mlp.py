"""A deep MLP on MNIST past 98.5 %, resumable after a kill, with TensorBoard and HParams.

What it shows
    Géron's exercise (*Hands-On ML* ch. 10): a 784 → 512 → 256 → 10 ReLU MLP with dropout,
    Adam and a cosine learning-rate decay, trained on 55,000 images (the last 5,000 of the
    training set validate; the test set is used once, at the end). With every bell and whistle:
    best-model and last-state checkpoints, resume after SIGKILL or Ctrl-C with the same final
    numbers as an uninterrupted run, TensorBoard scalars, weight histograms, learning rate and
    HParams, learning curves, the test confusion matrix, misclassified digits, and a
    learning-rate range test.

Command
    python -m experiments.mnist_mlp                              # train (default config)
    python -m experiments.mnist_mlp resume=logs/mnist_mlp/<time> # continue a killed run
    python -m experiments.mnist_mlp mode=lr_find                 # learning-rate range test
    python -m experiments.mnist_mlp -m model.hidden_units=[256,128],[512,256]   # compare in HParams

Runtime and result: see README.md (measured by ``benchmarks/mnist_mlp.py``).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from hydra.core.config_store import ConfigStore
from hydra.core.hydra_config import HydraConfig
from omegaconf import MISSING, DictConfig, OmegaConf

from mlpkit.cli import hydra_entry
from mlpkit.config import (
    ConfigError,
    OptimizerConfig,
    RunConfig,
    TrainingConfig,
    check_activation,
    check_choice,
    check_layer_widths,
    check_optimizer,
    check_positive,
    check_training,
    make_optimizer,
)
from mlpkit.datasets import load_mnist
from mlpkit.lr_finder import LearningRateRangeTest, plot_range_test
from mlpkit.plotting import plot_confusion_matrix, plot_learning_curves, plot_misclassified
from mlpkit.resume import epoch_stream, finished_epochs, read_epoch_log
from mlpkit.runs import create_run_dir, save_config, seed_everything, timed, write_metrics
from mlpkit.tensorboard import flat_hparams, write_final_metrics, write_hparams
from mlpkit.training import (
    best_epoch,
    higher_is_better,
    history_by_metric_name,
    standard_callbacks,
)

log = logging.getLogger(__name__)
LOGGED_METRICS = ["train/loss", "train/accuracy", "val/loss", "val/accuracy"]
HPARAMS = [
    "model.hidden_units",
    "model.activation",
    "model.dropout",
    "optimizer.name",
    "optimizer.learning_rate",
    "optimizer.schedule",
    "data.batch_size",
    "training.epochs",
    "seed",
]


@dataclass
class DataConfig:
    validation_size: int = MISSING  # the last N training images
    train_limit: int | None = None  # only the first N training images (short test runs)
    batch_size: int = MISSING


@dataclass
class ModelConfig:
    hidden_units: list[int] = MISSING
    activation: str = MISSING
    dropout: float = MISSING  # after every hidden layer


@dataclass
class LRFindConfig:
    min_lr: float = MISSING
    max_lr: float = MISSING


@dataclass
class MnistMLPConfig(RunConfig):
    mode: str = MISSING  # train | lr_find
    resume: str | None = None  # a run folder to continue, with its own config.yaml
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    lr_find: LRFindConfig = field(default_factory=LRFindConfig)


ConfigStore.instance().store(name="mnist_mlp_schema", node=MnistMLPConfig)


def check_config(cfg: DictConfig) -> None:
    check_choice(cfg, "mode", ["train", "lr_find"])
    check_positive(cfg, "data.validation_size", "data.batch_size", "lr_find.min_lr")
    if cfg.data.train_limit is not None:
        check_positive(cfg, "data.train_limit")
    if not 0 <= cfg.model.dropout < 1:
        raise ConfigError(f"model.dropout={cfg.model.dropout} is impossible: it must lie in [0, 1)")
    if cfg.lr_find.max_lr <= cfg.lr_find.min_lr:
        raise ConfigError("lr_find.max_lr must be larger than lr_find.min_lr")
    check_layer_widths(cfg, "model.hidden_units")
    check_activation(cfg, "model.activation")
    check_optimizer(cfg)
    check_training(cfg, LOGGED_METRICS)


def resumed_config(cfg: DictConfig) -> tuple[DictConfig, Path]:
    """The config and folder of the run that ``resume=<folder>`` continues."""
    run_dir = Path(cfg.resume)
    if not (run_dir / "config.yaml").is_file():
        raise ConfigError(f"resume={cfg.resume}: no run folder with a config.yaml there")
    if HydraConfig.initialized():
        others = [o for o in HydraConfig.get().overrides.task if not o.startswith("resume=")]
        if others:
            raise ConfigError(
                f"resume continues with {run_dir / 'config.yaml'}; drop the "
                f"other overrides ({' '.join(others)})"
            )
    saved = OmegaConf.merge(
        OmegaConf.structured(MnistMLPConfig), OmegaConf.load(run_dir / "config.yaml")
    )
    saved.resume = str(run_dir)
    return saved, run_dir


def load_data(cfg: DictConfig) -> dict[str, Any]:
    (x, y), (x_test, y_test) = load_mnist()
    x, x_test = (
        (x / np.float32(255)).astype(np.float32),
        (x_test / np.float32(255)).astype(np.float32),
    )
    cut = len(x) - cfg.data.validation_size
    x_train, y_train = x[:cut], y[:cut]
    if cfg.data.train_limit is not None:
        x_train, y_train = x_train[: cfg.data.train_limit], y_train[: cfg.data.train_limit]
    return {
        "x_train": x_train,
        "y_train": y_train.astype(np.int32),
        "x_val": x[cut:],
        "y_val": y[cut:].astype(np.int32),
        "x_test": x_test,
        "y_test": y_test.astype(np.int32),
    }


def build_model(cfg: DictConfig, total_steps: int) -> keras.Sequential:
    layers: list[keras.layers.Layer] = [keras.Input((28, 28)), keras.layers.Flatten()]
    for i, units in enumerate(cfg.model.hidden_units, start=1):
        layers.append(
            keras.layers.Dense(units, activation=cfg.model.activation, name=f"hidden_{i}")
        )
        if cfg.model.dropout > 0:
            layers.append(
                keras.layers.Dropout(cfg.model.dropout, seed=cfg.seed + i, name=f"dropout_{i}")
            )
    layers.append(keras.layers.Dense(10, activation="softmax", name="digit"))
    model = keras.Sequential(layers, name="mnist_mlp")
    model.compile(
        optimizer=make_optimizer(cfg.optimizer, total_steps),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        steps_per_execution=cfg.training.steps_per_execution,
    )
    return model


def run(cfg: DictConfig, extra_callbacks: list | None = None) -> dict[str, Any]:
    """Train (or ``mode=lr_find``) as configured; ``extra_callbacks`` go after the standard
    ones, outside the epochs' timing (the benchmark's per-epoch test accuracy)."""
    run_dir = None
    if cfg.resume:
        cfg, run_dir = resumed_config(cfg)
    check_config(cfg)
    seed_everything(cfg.seed)
    data = load_data(cfg)
    if run_dir is None:
        run_dir = create_run_dir(cfg.log_dir, cfg.experiment)
        save_config(cfg, run_dir)
    if cfg.mode == "lr_find":
        return find_learning_rate(cfg, data, run_dir)
    return train(cfg, data, run_dir, extra_callbacks or [])


def train(
    cfg: DictConfig, data: dict[str, Any], run_dir: Path, extra_callbacks: list
) -> dict[str, Any]:
    steps = math.ceil(len(data["x_train"]) / cfg.data.batch_size)
    epochs = cfg.training.epochs
    model = build_model(cfg, steps * epochs)
    first_epoch = finished_epochs(run_dir)
    monitor = cfg.training.early_stopping.monitor
    monitor_best = None
    if first_epoch:
        earlier = history_by_metric_name(read_epoch_log(run_dir).to_dict("list"))
        values = earlier[monitor][:first_epoch]
        monitor_best = max(values) if higher_is_better(monitor) else min(values)
        log.info("resuming %s after epoch %d", run_dir, first_epoch)
    else:
        write_hparams(run_dir / "tensorboard", flat_hparams(cfg, HPARAMS))
    train_stream = epoch_stream(
        data["x_train"], data["y_train"], cfg.data.batch_size, cfg.seed, first_epoch, epochs
    )
    val = tf.data.Dataset.from_tensor_slices((data["x_val"], data["y_val"])).batch(1000)
    with timed() as fit_time:
        model.fit(
            train_stream,
            epochs=epochs,
            steps_per_epoch=steps,
            validation_data=val,
            shuffle=False,  # epoch_stream shuffles, resumably
            callbacks=[*standard_callbacks(run_dir, cfg.training, monitor_best), *extra_callbacks],
            verbose=cfg.training.verbose,
        )
    history = history_by_metric_name(read_epoch_log(run_dir).to_dict("list"))
    # one pass over the test set: loss, accuracy and confusion matrix from the same predictions
    probabilities = model.predict(data["x_test"], batch_size=1000, verbose=0)
    predicted = probabilities.argmax(axis=1)
    test_loss = float(
        np.mean(keras.losses.sparse_categorical_crossentropy(data["y_test"], probabilities))
    )
    test_accuracy = float(np.mean(predicted == data["y_test"]))
    matrix = tf.math.confusion_matrix(data["y_test"], predicted, num_classes=10).numpy()
    metrics = {
        "test/accuracy": test_accuracy,
        "test/loss": test_loss,
        "val/accuracy": history["val/accuracy"][-1],
        "val/loss": history["val/loss"][-1],
        "best_epoch": best_epoch(history, monitor),
        "epochs_run": len(history["train/loss"]),
        "resumed_at_epoch": first_epoch,
        "train_seconds": float(sum(history["epoch_seconds"])),
        "seconds_per_epoch": float(np.median(history["epoch_seconds"])),
        "fit_seconds_this_process": fit_time["seconds"],
        "confusion_matrix": matrix.tolist(),
    }
    model.save(run_dir / "last_model.keras")  # the last state (Keras deletes its backup)
    write_final_metrics(
        run_dir / "tensorboard",
        {"test/accuracy": test_accuracy, "test/loss": test_loss},
        step=epochs,
    )
    write_figures(history, metrics, data, predicted, run_dir)
    write_metrics(metrics, run_dir)
    write_report(cfg, metrics, run_dir)
    log.info(
        "test accuracy %.4f after %d epochs (%.1f s of training) → %s",
        test_accuracy,
        metrics["epochs_run"],
        metrics["train_seconds"],
        run_dir,
    )
    return {**metrics, "run_dir": str(run_dir)}


def write_figures(
    history: dict, metrics: dict, data: dict, predicted: np.ndarray, run_dir: Path
) -> None:
    plot_learning_curves(
        history,
        {"loss": "cross-entropy", "accuracy": "accuracy"},
        run_dir / "learning_curves.png",
        best_epoch=metrics["best_epoch"],
        log_scale=False,
    )
    plot_confusion_matrix(
        np.array(metrics["confusion_matrix"]),
        run_dir / "confusion_matrix.png",
        f"test set, accuracy {metrics['test/accuracy']:.2%}",
    )
    wrong = np.flatnonzero(predicted != data["y_test"])[:32]
    plot_misclassified(
        data["x_test"][wrong],
        data["y_test"][wrong],
        predicted[wrong],
        run_dir / "misclassified.png",
    )


def write_report(cfg: DictConfig, metrics: dict, run_dir: Path) -> None:
    widths = " → ".join(["784", *map(str, cfg.model.hidden_units), "10"])
    (run_dir / "report.md").write_text(
        f"# MNIST MLP\n\n{widths} ({cfg.model.activation}, dropout {cfg.model.dropout}), "
        f"{cfg.optimizer.name} at {cfg.optimizer.learning_rate} ({cfg.optimizer.schedule}), "
        f"batch {cfg.data.batch_size}, {metrics['epochs_run']} epochs, seed {cfg.seed}.\n\n"
        f"**Test accuracy {metrics['test/accuracy']:.2%}** (loss {metrics['test/loss']:.4f}); "
        f"validation {metrics['val/accuracy']:.2%}. Training took "
        f"{metrics['train_seconds']:.1f} s ({metrics['seconds_per_epoch']:.2f} s per epoch)"
        + (
            f", resumed after epoch {metrics['resumed_at_epoch']}"
            if metrics["resumed_at_epoch"]
            else ""
        )
        + ".\n\n![learning curves](learning_curves.png)\n\n"
        "![confusion matrix](confusion_matrix.png)\n\n![misclassified](misclassified.png)\n"
    )


def find_learning_rate(cfg: DictConfig, data: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """``mode=lr_find``: one epoch with the rate growing from min_lr to max_lr."""
    steps = math.ceil(len(data["x_train"]) / cfg.data.batch_size)
    # a constant rate that the test sets before every batch, so one step per call
    lr_cfg = OmegaConf.merge(
        cfg, {"optimizer": {"schedule": "constant"}, "training": {"steps_per_execution": 1}}
    )
    model = build_model(lr_cfg, steps)
    test = LearningRateRangeTest(cfg.lr_find.min_lr, cfg.lr_find.max_lr, steps)
    model.fit(
        epoch_stream(data["x_train"], data["y_train"], cfg.data.batch_size, cfg.seed, 0, 1),
        epochs=1,
        steps_per_epoch=steps,
        callbacks=[test],
        shuffle=False,
        verbose=0,
    )
    plot_range_test(test, run_dir / "lr_find.png")
    metrics = {
        "lr_find/suggested_learning_rate": test.suggestion(),
        "lr_find/min_loss_learning_rate": test.rates[int(np.nanargmin(test.smoothed))],
        "lr_find/steps": len(test.rates),
    }
    write_metrics(metrics, run_dir)
    (run_dir / "report.md").write_text(
        f"# Learning-rate range test\n\nSuggested learning rate "
        f"{metrics['lr_find/suggested_learning_rate']:.3g} (steepest descent of the smoothed "
        f"loss); lowest smoothed loss at {metrics['lr_find/min_loss_learning_rate']:.3g}.\n\n"
        "![range test](lr_find.png)\n"
    )
    log.info(
        "suggested learning rate %.3g → %s", metrics["lr_find/suggested_learning_rate"], run_dir
    )
    return {**metrics, "run_dir": str(run_dir)}


if __name__ == "__main__":
    hydra_entry("mnist_mlp", run)
