"""Figures written into run folders (PNG, matplotlib's non-interactive Agg backend): learning
curves, activation histograms, confusion matrices, image grids."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def plot_learning_curves(
    history: dict[str, list[float]],
    metrics: dict[str, str],
    path: Path,
    best_epoch: int | None = None,
    log_scale: bool = True,
) -> Path:
    """One panel per metric, training against validation, by epoch.

    ``history`` uses the suite's names (``train/loss``, ``val/loss``); ``metrics`` maps a base
    name to its panel title, e.g. ``{"loss": "MSE", "mae": "MAE"}``. A dashed line marks the
    best epoch (the weights the run keeps). Non-finite values (a diverged run) are left out
    and the panel says from which epoch the curve is missing.
    """
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.5 * len(metrics), 4), squeeze=False)
    for ax, (metric, title) in zip(axes[0], metrics.items(), strict=True):
        finite_positive = False
        for split, style in (("train", "-"), ("val", "--")):
            values = np.asarray(history.get(f"{split}/{metric}", []), dtype=float)
            if values.size == 0:
                continue
            epochs = np.arange(1, values.size + 1)
            ok = np.isfinite(values)
            ax.plot(
                epochs[ok],
                values[ok],
                style,
                marker="." if ok.sum() < 10 else None,
                label="training" if split == "train" else "validation",
            )
            finite_positive |= bool((values[ok] > 0).any())
            if not ok.all():
                first = int(epochs[~ok][0])
                ax.text(
                    0.5,
                    0.55 if split == "train" else 0.45,  # one line each, not on top of another
                    f"{split}: not finite from epoch {first} (diverged)",
                    transform=ax.transAxes,
                    ha="center",
                    color="red",
                )
        if best_epoch:
            ax.axvline(best_epoch, color="grey", linestyle=":", label=f"best epoch ({best_epoch})")
        epochs_logged = max(len(history.get(f"{s}/{metric}", [])) for s in ("train", "val"))
        ax.set_xlim(0.5, max(epochs_logged, 1) + 0.5)  # epochs, even when nothing is finite
        if log_scale and finite_positive:
            ax.set_yscale("log")
        ax.set(title=title, xlabel="epoch", ylabel=title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_activation_histograms(
    activations: list, initializer: str, activation: str, path: Path
) -> Path:
    """Normalised density histograms of each hidden layer's activations, one colour a layer."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for k, values in enumerate(activations, start=1):
        ax.hist(
            np.ravel(values),
            bins=100,
            density=True,
            histtype="step",
            linewidth=1.4,
            label=f"layer {k} ({np.size(values) // max(1, np.shape(values)[0])} units)",
        )
    ax.set(
        title=f"{activation} activations, {initializer} initialisation",
        xlabel="h",
        ylabel="density",
    )
    ax.set_yscale("log")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_activation_overlay(samples: dict[str, list], activation: str, path: Path) -> Path:
    """One panel per layer, the initialisations overlaid."""
    layers = len(next(iter(samples.values())))
    fig, axes = plt.subplots(1, layers, figsize=(3.2 * layers, 3.4), sharey=True, squeeze=False)
    for k, ax in enumerate(axes[0]):
        for initializer, per_layer in samples.items():
            ax.hist(
                np.ravel(per_layer[k]),
                bins=80,
                range=(-1, 1) if activation == "tanh" else None,
                density=True,
                histtype="step",
                label=initializer,
            )
        ax.set(title=f"layer {k + 1}", xlabel="h")
        ax.set_yscale("log")
    axes[0][0].set_ylabel("density")
    axes[0][-1].legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_confusion_matrix(matrix: np.ndarray, path: Path, title: str) -> Path:
    """Counts per (true, predicted) class, with the counts written in the cells."""
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    image = ax.imshow(np.log1p(matrix), cmap="Blues")
    classes = range(matrix.shape[0])
    for i in classes:
        for j in classes:
            ax.text(
                j,
                i,
                str(matrix[i, j]),
                ha="center",
                va="center",
                fontsize=7,
                color="white" if matrix[i, j] > matrix.max() / 3 else "black",
            )
    ax.set(
        xticks=list(classes), yticks=list(classes), xlabel="predicted", ylabel="true", title=title
    )
    fig.colorbar(image, ax=ax, label="log(1 + count)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_misclassified(
    images: np.ndarray, true: np.ndarray, predicted: np.ndarray, path: Path, columns: int = 8
) -> Path:
    """A grid of images titled ``true → predicted``."""
    rows = max(1, math.ceil(len(images) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(1.4 * columns, 1.6 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, t, p in zip(axes.flat, images, true, predicted, strict=False):
        ax.imshow(image, cmap="gray_r")
        ax.set_title(f"{t} → {p}", fontsize=9, color="red")
    fig.suptitle("misclassified test digits (true → predicted)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
