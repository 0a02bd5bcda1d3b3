"""mlpkit's TensorBoard callback writes what Keras's writes: same folders, tags and histograms."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from mlpkit.tensorboard import TensorBoard


def _train_with(callback_class: type, log_dir: Path) -> dict[str, dict[str, list]]:
    keras.utils.set_random_seed(3)
    x = np.random.default_rng(0).normal(size=(64, 5)).astype(np.float32)
    y = x @ np.arange(5, dtype=np.float32)[:, None]
    model = keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Dense(4, "tanh", name="hidden"),
            keras.layers.Dense(1, name="out"),
        ],
        name="tiny",
    )
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    model.fit(
        x,
        y,
        batch_size=16,
        epochs=3,
        validation_split=0.25,
        verbose=0,
        callbacks=[callback_class(str(log_dir), histogram_freq=1, write_graph=False)],
    )
    events = {}
    for split in ("train", "validation"):
        accumulator = EventAccumulator(str(log_dir / split), size_guidance={"tensors": 0}).Reload()
        events[split] = {
            tag: [tf.make_ndarray(e.tensor_proto) for e in accumulator.Tensors(tag)]
            for tag in accumulator.Tags()["tensors"]
        }
    return events


def test_same_tags_and_values_as_keras(tmp_path: Path) -> None:
    ours = _train_with(TensorBoard, tmp_path / "ours")
    theirs = _train_with(keras.callbacks.TensorBoard, tmp_path / "keras")
    for split in ("train", "validation"):
        assert set(ours[split]) == set(theirs[split]), split
        for tag, values in theirs[split].items():
            assert len(ours[split][tag]) == len(values), tag
            for mine, reference in zip(ours[split][tag], values, strict=True):
                if tag.endswith("/histogram"):  # [buckets, 3]: left edge, right edge, count
                    assert mine.shape == reference.shape
                    np.testing.assert_allclose(mine[:, :2], reference[:, :2], rtol=1e-5, atol=1e-6)
                    assert mine[:, 2].sum() == reference[:, 2].sum()
                    assert np.abs(mine[:, 2] - reference[:, 2]).sum() <= 2  # edge rounding
                else:
                    np.testing.assert_allclose(mine, reference, rtol=1e-6)
    assert {"tiny/hidden/kernel/histogram", "tiny/out/bias/histogram"} <= set(ours["train"])
