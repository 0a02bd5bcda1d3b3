"""TensorBoard logging: Keras's callback without its per-epoch eager overhead.

``keras.callbacks.TensorBoard`` is what the suite uses (folders ``train/`` and ``validation/``,
scalar tags ``epoch_loss``…, histogram tags ``<layer>/<weight>/histogram``), but on small
models its Python overhead exceeds the training itself. Measured on the 2-core CPU for the Q1
model (30 ms of training per epoch):

* weight histograms: Keras runs TensorFlow's histogram ops eagerly, one variable after another,
  26 ms per epoch. Here the same protos come from TensorBoard's NumPy ``histogram_pb`` and are
  written by one ``write_raw_pb`` op, with no tracing (a compiled function would need about 1 s
  to trace, as long as a whole short run spends eagerly);
* with ``update_freq="epoch"`` Keras still calls ``tf.summary.scalar`` for every batch, each a
  no-op because no writer records then, 0.8 ms per batch. Here those calls are skipped.

Files and tags are exactly Keras's (a test compares them).

:func:`write_hparams` and :func:`write_final_metrics` put a run's hyperparameters and final
metrics where TensorBoard's HParams tab finds them, so the runs of a sweep compare there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from omegaconf import OmegaConf
from tensorboard.plugins.histogram.summary_v2 import histogram_pb
from tensorboard.plugins.hparams import api as hp


class TensorBoard(keras.callbacks.TensorBoard):
    """``keras.callbacks.TensorBoard`` with cheap weight histograms, no-op batch calls skipped."""

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        batch_summaries_recorded = self.update_freq != "epoch" or self.write_steps_per_second
        if batch_summaries_recorded or self._should_trace or self._should_write_train_graph:
            super().on_train_batch_end(batch, logs)

    def _log_weights(self, epoch: int) -> None:
        if self.write_images:  # images stay on Keras's own path
            super()._log_weights(epoch)
            return
        with np.errstate(invalid="ignore"):  # a diverged model's NaN weights
            protos = [
                histogram_pb(
                    f"{weight.path.replace(':', '_')}/histogram", keras.ops.convert_to_numpy(weight)
                ).SerializeToString()
                for layer in self.model.layers
                for weight in layer.weights
            ]
        with self._train_writer.as_default():
            tf.summary.experimental.write_raw_pb(tf.constant(protos), step=epoch)
        self._train_writer.flush()


def flat_hparams(cfg: Any, keys: list[str]) -> dict[str, bool | int | float | str]:
    """Config values as HParams accepts them (lists become comma-separated strings)."""
    values: dict[str, bool | int | float | str] = {}
    for key in keys:
        value = OmegaConf.select(cfg, key)
        values[key] = ",".join(map(str, value)) if OmegaConf.is_list(value) else value
    return values


def write_hparams(log_dir: Path, hparams: dict[str, bool | int | float | str]) -> None:
    """The run's hyperparameters for TensorBoard's HParams tab (a session-start summary)."""
    with tf.summary.create_file_writer(str(log_dir)).as_default():
        hp.hparams(hparams)


def write_final_metrics(log_dir: Path, metrics: dict[str, float], step: int) -> None:
    """Final metrics as scalars beside the HParams summary, so the HParams tab lists them."""
    with tf.summary.create_file_writer(str(log_dir)).as_default():
        for name, value in metrics.items():
            tf.summary.scalar(name, value, step=step)
