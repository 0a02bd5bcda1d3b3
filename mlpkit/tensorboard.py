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
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from tensorboard.plugins.histogram.summary_v2 import histogram_pb


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
