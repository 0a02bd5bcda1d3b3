"""Coursework Q3: backpropagation by hand on an MNIST MLP, checked two independent ways.

What it shows
    The gradients of the mean categorical cross-entropy with respect to the output layer of
    784 → 64 → 64 → 10 (sigmoid, softmax), written out by hand in TensorFlow ops
    (``mlpkit.backprop.grads``), for the first 16 training images, agree with
    ``tf.GradientTape`` to float32 rounding (relative error ≤ 1e-5; ≤ 1e-10 in float64) and
    with centred finite differences (float64) to CS231n's 1e-7. Beyond the coursework,
    ``grads_all_layers`` does every layer, for sigmoid, tanh, relu or swish hidden units.

Command
    python -m experiments.mnist_gradients                      # float32, sigmoid
    python -m experiments.mnist_gradients precision=float64 model.activation=tanh

Runtime: about 15 s on the 2-core CPU (most of it finite differences and loading MNIST).
Output: ``logs/mnist_gradients/<time>/`` with metrics.json, gradients.npz, config.yaml, report.md
(the derivation of δ = ŷ − y from docs/backprop.md and the measured errors).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig

from mlpkit.backprop import ACTIVATIONS, grads, grads_all_layers
from mlpkit.cli import hydra_entry
from mlpkit.config import RunConfig, check_choice, check_layer_widths, check_positive
from mlpkit.datasets import load_mnist
from mlpkit.gradient_check import compare, finite_difference_check, tape_gradients
from mlpkit.reports import markdown_table
from mlpkit.runs import create_run_dir, save_config, seed_everything, write_metrics

log = logging.getLogger(__name__)
DERIVATION = Path(__file__).resolve().parent.parent / "docs" / "backprop.md"
TAPE_BOUND = {"float32": 1e-5, "float64": 1e-10}
FD_BOUND = 1e-7


@dataclass
class ModelConfig:
    hidden_units: list[int] = MISSING
    activation: str = MISSING


@dataclass
class CheckConfig:
    fd_samples: int = MISSING  # random entries per variable (all of one with fewer)
    fd_step: float = MISSING


@dataclass
class MnistGradientsConfig(RunConfig):
    precision: str = MISSING  # float32 | float64
    num_examples: int = MISSING
    model: ModelConfig = field(default_factory=ModelConfig)
    check: CheckConfig = field(default_factory=CheckConfig)


ConfigStore.instance().store(name="mnist_gradients_schema", node=MnistGradientsConfig)


def check_config(cfg: DictConfig) -> None:
    check_choice(cfg, "precision", list(TAPE_BOUND))
    check_positive(cfg, "num_examples", "check.fd_samples", "check.fd_step")
    check_layer_widths(cfg, "model.hidden_units")
    check_choice(cfg, "model.activation", [a for a in ACTIVATIONS if a != "linear"])


def load_training_tensors(dtype: str) -> tuple[tf.Tensor, tf.Tensor]:
    """(a) MNIST's training set, NOT shuffled: pixels in [0, 1], one-hot labels, as tensors."""
    (x, y), _ = load_mnist()
    return tf.constant(x / 255.0, dtype=dtype), tf.one_hot(y, 10, dtype=dtype)


def build_model(cfg: DictConfig, dtype: str) -> keras.Sequential:
    """(a) Flatten → [Dense → Activation] per hidden layer → Dense(10) → Activation(softmax)."""
    layers: list[keras.layers.Layer] = [
        keras.Input((28, 28), dtype=dtype),
        keras.layers.Flatten(dtype=dtype),
    ]
    for i, units in enumerate(cfg.model.hidden_units, start=1):
        layers += [
            keras.layers.Dense(units, dtype=dtype, name=f"dense_{i}"),
            keras.layers.Activation(cfg.model.activation, dtype=dtype, name=f"act_{i}"),
        ]
    layers += [
        keras.layers.Dense(10, dtype=dtype, name="output"),
        keras.layers.Activation("softmax", dtype=dtype, name="softmax"),
    ]
    return keras.Sequential(layers, name="mnist_mlp")


def float64_copy(model: keras.Model, cfg: DictConfig) -> keras.Model:
    """The same weights in float64, for finite differences."""
    copy = build_model(cfg, "float64")
    copy.set_weights([w.astype(np.float64) for w in model.get_weights()])
    return copy


def run(cfg: DictConfig) -> dict[str, Any]:
    check_config(cfg)
    seed_everything(cfg.seed)
    x_train, y_train = load_training_tensors(cfg.precision)
    run_dir = create_run_dir(cfg.log_dir, cfg.experiment)
    save_config(cfg, run_dir)
    model = build_model(cfg, cfg.precision)
    inputs, targets = x_train[: cfg.num_examples], y_train[: cfg.num_examples]

    # (c), (d): the output layer's gradients by hand, for the first examples.
    grad_kernel, grad_bias = grads(model, inputs, targets)
    print(
        f"∂L/∂K^(out) {tuple(grad_kernel.shape)}, ‖·‖ = {float(tf.norm(grad_kernel)):.6g} "
        "(all entries in gradients.npz):"
    )
    print(np.array2string(grad_kernel.numpy(), precision=4, threshold=100, edgeitems=3))
    print(
        f"∂L/∂b^(out) {tuple(grad_bias.shape)} =", np.array2string(grad_bias.numpy(), precision=5)
    )
    tape = tape_gradients(model, inputs, targets)
    output_vs_tape = compare([grad_kernel, grad_bias], tape[-2:])
    every_layer = grads_all_layers(model, inputs, targets)
    all_vs_tape = compare(every_layer, tape)

    # Finite differences in float64 on the same weights.
    model64 = float64_copy(model, cfg)
    x64, y64 = tf.cast(inputs, "float64"), tf.cast(targets, "float64")
    output_vars = model64.trainable_variables[-2:]
    fd_output = finite_difference_check(
        model64,
        x64,
        y64,
        grads(model64, x64, y64),
        output_vars,
        cfg.check.fd_samples,
        cfg.seed,
        cfg.check.fd_step,
    )
    fd_all = finite_difference_check(
        model64,
        x64,
        y64,
        grads_all_layers(model64, x64, y64),
        model64.trainable_variables,
        cfg.check.fd_samples,
        cfg.seed,
        cfg.check.fd_step,
    )
    np.savez(
        run_dir / "gradients.npz",
        **{
            v.path.replace("/", "__"): g.numpy()
            for v, g in zip(model.trainable_variables, every_layer, strict=True)
        },
    )
    metrics = {
        "loss": float(
            tf.reduce_mean(keras.losses.categorical_crossentropy(targets, model(inputs)))
        ),
        "output/tape_max_abs_diff": output_vs_tape["max_abs_diff"],
        "output/tape_rel_error": output_vs_tape["rel_error"],
        "output/fd_max_rel_error": fd_output["max_rel_error"],
        "output/fd_entries": fd_output["entries"],
        "all_layers/tape_max_abs_diff": all_vs_tape["max_abs_diff"],
        "all_layers/tape_rel_error": all_vs_tape["rel_error"],
        "all_layers/fd_max_rel_error": fd_all["max_rel_error"],
        "all_layers/fd_max_abs_error": fd_all["max_abs_error"],
        "all_layers/fd_rounding_floor": fd_all["rounding_floor"],
        "all_layers/fd_entries": fd_all["entries"],
        **{
            f"grad_norm/{v.path}": float(tf.norm(g))
            for v, g in zip(model.trainable_variables, every_layer, strict=True)
        },
    }
    bound = TAPE_BOUND[cfg.precision]
    metrics["passed/output_tape"] = metrics["output/tape_rel_error"] <= bound
    metrics["passed/all_layers_tape"] = metrics["all_layers/tape_rel_error"] <= bound
    metrics["passed/output_fd"] = metrics["output/fd_max_rel_error"] <= FD_BOUND
    metrics["passed/all_layers_fd"] = fd_all["passed"]
    write_metrics(metrics, run_dir)
    write_report(cfg, metrics, run_dir)
    log.info(
        "tape rel. error %.2e (output), %.2e (all layers); finite differences %.2e → %s",
        metrics["output/tape_rel_error"],
        metrics["all_layers/tape_rel_error"],
        metrics["output/fd_max_rel_error"],
        run_dir,
    )
    return {**metrics, "run_dir": str(run_dir)}


def write_report(cfg: DictConfig, metrics: dict[str, Any], run_dir: Path) -> None:
    bound = TAPE_BOUND[cfg.precision]
    rows = [
        [
            "output layer vs GradientTape: ‖Δ‖/‖g‖",
            metrics["output/tape_rel_error"],
            bound,
            metrics["passed/output_tape"],
        ],
        [
            "all layers vs GradientTape: ‖Δ‖/‖g‖",
            metrics["all_layers/tape_rel_error"],
            bound,
            metrics["passed/all_layers_tape"],
        ],
        [
            f"output layer vs finite differences ({metrics['output/fd_entries']} entries): "
            "max relative error",
            metrics["output/fd_max_rel_error"],
            FD_BOUND,
            metrics["passed/output_fd"],
        ],
        [
            f"all layers vs finite differences ({metrics['all_layers/fd_entries']} entries): "
            "max relative error",
            metrics["all_layers/fd_max_rel_error"],
            f"1e-7·|g| + {metrics['all_layers/fd_rounding_floor']:.1e}",
            metrics["passed/all_layers_fd"],
        ],
    ]
    layers = " → ".join(["784", *map(str, cfg.model.hidden_units), "10"])
    (run_dir / "report.md").write_text(
        f"# Question 3: backpropagation by hand\n\nModel {layers} ({cfg.model.activation}, "
        f"softmax), {cfg.precision}, seed {cfg.seed}; the first {cfg.num_examples} MNIST "
        f"training images; mean loss {metrics['loss']:.4f}.\n\n"
        f"{markdown_table(['check', 'measured', 'bound', 'passed'], rows)}\n\n"
        f"Finite differences run in float64 on the same weights, step {cfg.check.fd_step}; "
        f"their largest absolute error over all layers, "
        f"{metrics['all_layers/fd_max_abs_error']:.1e}, is the rounding of the difference "
        f"quotient itself.\n\n{DERIVATION.read_text().replace('# ', '## ', 1)}"
    )


if __name__ == "__main__":
    hydra_entry("mnist_gradients", run)
