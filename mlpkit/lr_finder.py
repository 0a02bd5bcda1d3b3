"""Learning-rate range test (Smith 2017; fastai's ``lr_find``): one epoch, the rate growing
exponentially, the loss recorded per batch.

Batch t of T uses η_t = η_min · (η_max / η_min)^{t / (T − 1)}. The curve of (exponentially
smoothed, bias-corrected) loss against log η falls where the rate is useful and blows up where
it is too large; the test stops once the smoothed loss exceeds 4× its minimum. The suggested
rate is where the smoothed loss falls fastest, d loss / d log η most negative, taken before the
minimum: a common, conservative choice (fastai's "steep" suggestion).
"""

from __future__ import annotations

import math
from pathlib import Path

import keras
import numpy as np

from mlpkit.plotting import plt


class LearningRateRangeTest(keras.callbacks.Callback):
    """Sets the optimizer's rate before each batch and records the batch losses."""

    def __init__(self, min_lr: float, max_lr: float, steps: int, smoothing: float = 0.98):
        super().__init__()
        self.min_lr, self.max_lr, self.steps, self.smoothing = min_lr, max_lr, steps, smoothing
        self.rates: list[float] = []
        self.losses: list[float] = []
        self.smoothed: list[float] = []
        self._average = 0.0

    def rate(self, step: int) -> float:
        return self.min_lr * (self.max_lr / self.min_lr) ** (step / max(1, self.steps - 1))

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self.model.optimizer.learning_rate.assign(self.rate(len(self.rates)))

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        # Keras's logged loss is the running mean over the epoch; recover this batch's loss.
        mean = float(logs["loss"])
        step = len(self.rates)
        loss = mean * (step + 1) - (sum(self.losses) if self.losses else 0.0)
        self.rates.append(self.rate(step))
        self.losses.append(loss)
        self._average = self.smoothing * self._average + (1 - self.smoothing) * loss
        smoothed = self._average / (1 - self.smoothing ** (step + 1))
        self.smoothed.append(smoothed)
        if not math.isfinite(smoothed) or smoothed > 4 * min(self.smoothed):
            self.model.stop_training = True

    def suggestion(self) -> float:
        """The rate of steepest descent of the smoothed loss, before its minimum."""
        smoothed = np.asarray(self.smoothed)
        last = int(np.nanargmin(smoothed)) + 1
        if last < 3:
            return self.rates[0]
        slope = np.gradient(smoothed[:last], np.log(self.rates[:last]))
        return float(self.rates[int(np.argmin(slope))])


def plot_range_test(test: LearningRateRangeTest, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    ax.plot(test.rates, test.losses, alpha=0.3, label="batch loss")
    ax.plot(test.rates, test.smoothed, label="smoothed")
    ax.axvline(
        test.suggestion(), color="red", linestyle=":", label=f"suggested {test.suggestion():.2g}"
    )
    ax.set(
        xscale="log",
        xlabel="learning rate",
        ylabel="loss",
        title="learning-rate range test (one epoch)",
    )
    finite = [s for s in test.smoothed if math.isfinite(s)]
    if finite:
        ax.set_ylim(0, 4.2 * min(finite) if min(finite) > 0 else None)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
