"""Training mechanics shared by every experiment: strategy, standard callbacks, history.

The callbacks are Keras's own, configured once (:class:`mlpkit.config.TrainingConfig`):

* :class:`mlpkit.tensorboard.TensorBoard` (Keras's, minus its eager overhead) writes
  ``<run>/tensorboard/{train,validation}``: per-epoch scalars, weight histograms every
  ``histogram_freq`` epochs;
* :class:`BestModelCheckpoint` (Keras's ``ModelCheckpoint``, never keeping a NaN model) keeps
  the best model by the monitored metric in ``<run>/best_model.keras``;
* ``EarlyStopping`` stops after ``patience`` epochs without improvement and restores the best
  weights at the end of training (Keras 3 restores even when patience never ran out);
* ``TerminateOnNaN`` ends a run whose loss has diverged instead of training NaNs to the end;
* ``BackupAndRestore`` keeps the last finished epoch in ``<run>/backup/`` so that a killed run
  started again on the same folder continues from there.

The distribution strategy comes from config: ``none`` is TensorFlow's default strategy;
``mirrored`` is ``tf.distribute.MirroredStrategy`` over all GPUs or, without one, over the CPU
split into ``cpu_devices`` logical devices (this must happen before TensorFlow initialises).
"""

from __future__ import annotations

import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from omegaconf import DictConfig

from mlpkit.config import ConfigError, keras_metric_name
from mlpkit.resume import EPOCH_LOG, EpochSeededDropout
from mlpkit.tensorboard import TensorBoard


def distribution_strategy(name: str, cpu_devices: int = 2) -> tf.distribute.Strategy:
    if name == "none":
        return tf.distribute.get_strategy()
    if name != "mirrored":
        raise ConfigError(f"training.strategy={name!r} is unknown: choose none or mirrored")
    if tf.config.list_physical_devices("GPU"):
        return tf.distribute.MirroredStrategy()
    (cpu,) = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * cpu_devices
        )
    except RuntimeError:  # TensorFlow already initialised: usable only if the split is there
        pass
    devices = [device.name for device in tf.config.list_logical_devices("CPU")]
    if len(devices) != cpu_devices:
        raise ConfigError(
            f"training.strategy=mirrored needs {cpu_devices} logical CPU devices but TensorFlow "
            f"was already initialised with {len(devices)}: start the run in a fresh process"
        )
    return tf.distribute.MirroredStrategy(
        devices=devices, cross_device_ops=tf.distribute.ReductionToOneDevice()
    )


class BestModelCheckpoint(keras.callbacks.ModelCheckpoint):
    """``ModelCheckpoint(save_best_only=True)`` that never keeps a diverged model.

    Keras saves when the monitored value is missing, and counts any first value, NaN included,
    as an improvement: a model diverged in its first epoch would be kept as the "best" one.
    """

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        value = (logs or {}).get(self.monitor)
        if value is not None and np.isfinite(value):
            super().on_epoch_end(epoch, logs)


class EpochSeconds(keras.callbacks.Callback):
    """Adds ``epoch_seconds`` (the epoch's wall time, validation included) to the epoch logs."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["epoch_seconds"] = time.perf_counter() - self._start


def standard_callbacks(
    run_dir: Path, training: DictConfig, monitor_best: float | None = None
) -> list[keras.callbacks.Callback]:
    """TensorBoard, best-model checkpoint, early stopping and backup, as configured.

    With ``backup_and_restore`` the run is resumable (:mod:`mlpkit.resume`): epochs are also
    logged to ``epochs.csv`` (appending, with their wall time), dropout is seeded per epoch, and
    ``monitor_best``, the best monitored value before a restart, keeps the checkpoint from
    replacing a better model saved before it.
    """
    early = training.early_stopping
    monitor = keras_metric_name(early.monitor)
    callbacks: list[keras.callbacks.Callback] = [
        TensorBoard(
            log_dir=str(run_dir / "tensorboard"),
            histogram_freq=training.histogram_freq,
            write_graph=False,
        ),
        BestModelCheckpoint(
            str(run_dir / "best_model.keras"),
            monitor=monitor,
            save_best_only=True,
            initial_value_threshold=monitor_best,
        ),
        keras.callbacks.TerminateOnNaN(),
    ]
    if early.enabled:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=monitor,
                patience=early.patience,
                restore_best_weights=early.restore_best_weights,
            )
        )
    # After TensorBoard and the checkpoint (their cost counts), before the log that records it.
    callbacks.append(EpochSeconds())
    if training.backup_and_restore:
        callbacks += [
            EpochSeededDropout(),
            keras.callbacks.CSVLogger(str(run_dir / EPOCH_LOG), append=True),
            # after the log line, so a kill between the two repeats the epoch rather than
            # losing its line; double_checkpoint: a kill while saving falls back one epoch
            keras.callbacks.BackupAndRestore(str(run_dir / "backup"), double_checkpoint=True),
        ]
    return callbacks


def history_by_metric_name(history: dict[str, list[float]]) -> dict[str, list[float]]:
    """Keras's history renamed: ``loss`` → ``train/loss``, ``val_mae`` → ``val/mae``."""
    renamed = {}
    for key, values in history.items():
        if key == "epoch_seconds":
            name = key
        else:
            name = f"val/{key[4:]}" if key.startswith("val_") else f"train/{key}"
        renamed[name] = [float(v) for v in values]
    return renamed


def higher_is_better(monitor: str) -> bool:
    """Accuracy and AUC improve upwards, losses and errors downwards (EarlyStopping's rule)."""
    return "acc" in monitor or "auc" in monitor


def best_epoch(history: dict[str, list[float]], monitor: str) -> int:
    """The 1-based epoch at which ``monitor`` (suite name) was best, as EarlyStopping judges it.

    0 when no epoch has a finite value (the run diverged from its first epoch).
    """
    values = np.asarray(history[monitor], dtype=float)
    if not np.isfinite(values).any():
        return 0
    maximise = higher_is_better(monitor)
    values = np.where(np.isfinite(values), values, -np.inf if maximise else np.inf)
    return int(np.argmax(values) if maximise else np.argmin(values)) + 1


def diverged(history: dict[str, list[float]]) -> bool:
    """True when the training loss became NaN or infinite."""
    return not np.isfinite(history["train/loss"]).all()
