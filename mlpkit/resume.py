"""Resuming a killed run exactly: the same epochs, batches and dropout masks as without the kill.

``keras.callbacks.BackupAndRestore`` saves the weights, the optimizer's state (its step count,
hence the learning-rate schedule) and the number of finished epochs after every epoch, and
restores them when ``fit`` starts again on the same folder. Two more things decide the numbers
of the remaining epochs, and Keras keeps neither across processes:

* the data order. :func:`epoch_stream` shuffles each epoch with a stateless permutation keyed
  by (seed, epoch) and starts the stream at the resumed epoch, so epoch k sees the same batches
  whether or not the process was restarted before it;
* the dropout masks, drawn from each layer's ``SeedGenerator`` (state ``[seed, counter]``), which
  the backup does not hold. :class:`EpochSeededDropout` sets every generator to
  ``[seed, epoch · 2^20]`` when an epoch begins.

The per-epoch log (Keras's ``CSVLogger``, appending) may hold an epoch twice when a kill fell
between its line and the backup; :func:`read_epoch_log` keeps the last.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

BACKUP_DIR = "backup"
EPOCH_LOG = "epochs.csv"


def finished_epochs(run_dir: Path) -> int:
    """Epochs the run's backup holds (0 for a new run)."""
    metadata = run_dir / BACKUP_DIR / "training_metadata.json"
    return int(json.loads(metadata.read_text())["epoch"]) if metadata.is_file() else 0


def epoch_stream(
    x: np.ndarray, y: np.ndarray, batch_size: int, seed: int, first_epoch: int, epochs: int
) -> tf.data.Dataset:
    """Batches of epochs ``first_epoch .. epochs-1``, each epoch a permutation keyed by
    (seed, epoch); use with ``fit(steps_per_epoch=ceil(len(x) / batch_size))``."""
    n = len(x)
    x, y = tf.constant(x), tf.constant(y)

    def batches_of(epoch: tf.Tensor) -> tf.data.Dataset:
        key = tf.random.stateless_uniform([n], seed=tf.stack([tf.constant(seed, tf.int64), epoch]))
        return tf.data.Dataset.from_tensor_slices(tf.argsort(key)).batch(batch_size)

    stream = tf.data.Dataset.range(first_epoch, epochs).flat_map(batches_of)
    return stream.map(
        lambda idx: (tf.gather(x, idx), tf.gather(y, idx)), num_parallel_calls=tf.data.AUTOTUNE
    ).prefetch(tf.data.AUTOTUNE)


class EpochSeededDropout(keras.callbacks.Callback):
    """Sets every ``SeedGenerator`` of the model to ``[seed, epoch · 2^20]`` at each epoch."""

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._generators = [
            (sg, int(keras.ops.convert_to_numpy(sg.state)[0]))
            for layer in self.model._flatten_layers()
            for sg in getattr(layer, "_seed_generators", [])
        ]

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        for generator, seed in self._generators:
            dtype = keras.ops.convert_to_numpy(generator.state).dtype
            generator.state.assign(np.array([seed, epoch << 20], dtype=dtype))


def read_epoch_log(run_dir: Path) -> pd.DataFrame:
    """The per-epoch log, one row per epoch (the last when an epoch was logged twice),
    indexed from 1."""
    log = pd.read_csv(run_dir / EPOCH_LOG)
    log = log.drop_duplicates("epoch", keep="last").sort_values("epoch")
    log.index = pd.RangeIndex(1, len(log) + 1, name="epoch")
    return log.drop(columns="epoch")
