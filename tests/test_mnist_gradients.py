"""Coursework Q3: MNIST data identities, hand-written backprop against tape and finite
differences, the TF-only rule, and a checker that is shown to catch a wrong backprop."""

from __future__ import annotations

import ast
import gzip
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from experiments.mnist_gradients import build_model, run
from mlpkit import backprop, datasets
from mlpkit.backprop import ACTIVATIONS, activation_derivative, grads, grads_all_layers
from mlpkit.config import ConfigError
from mlpkit.datasets import MNIST_FILES, DataFileError, load_mnist
from mlpkit.gradient_check import compare, finite_difference_check, tape_gradients
from mlpkit.idx import IDXFormatError, read_idx


@pytest.fixture(scope="module")
def mnist() -> tuple:
    return load_mnist()


def test_mnist_matches_keras_layout(mnist: tuple) -> None:
    (x_train, y_train), (x_test, y_test) = mnist
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and y_test.shape == (10000,)
    assert y_train.dtype == np.uint8
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:5].tolist() == [7, 2, 1, 0, 4]
    assert np.bincount(y_train).tolist()[:3] == [5923, 6742, 5958]


def test_idx_reads_raw_and_gzip_alike(tmp_path: Path) -> None:
    raw = datasets.verified_path(MNIST_FILES["y_test"]).read_bytes()
    (tmp_path / "labels.gz").write_bytes(gzip.compress(raw))
    (tmp_path / "labels").write_bytes(raw)
    np.testing.assert_array_equal(read_idx(tmp_path / "labels.gz"), read_idx(tmp_path / "labels"))


def test_idx_rejects_bad_magic_and_truncation(tmp_path: Path) -> None:
    raw = datasets.verified_path(MNIST_FILES["y_test"]).read_bytes()
    (tmp_path / "bad_magic").write_bytes(b"\x00\x00\x0d\x01" + raw[4:])
    with pytest.raises(IDXFormatError, match="bad IDX magic number"):
        read_idx(tmp_path / "bad_magic")
    (tmp_path / "truncated").write_bytes(raw[:-100])
    with pytest.raises(IDXFormatError, match="truncated or corrupted"):
        read_idx(tmp_path / "truncated")


def test_corrupted_cached_mnist_file_is_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(datasets, "_KERAS_FAILED", {"mnist"})
    monkeypatch.setenv("MLPKIT_DATA_DIR", str(tmp_path))
    for data_file in MNIST_FILES.values():
        (tmp_path / data_file.name).write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x00")
    with pytest.raises(DataFileError, match="train-images-idx3-ubyte is corrupted"):
        load_mnist()


def test_backprop_module_uses_tensorflow_only() -> None:
    tree = ast.parse(Path(backprop.__file__).read_text())
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in (
            node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")]
        )
    }
    assert "numpy" not in imported and "scipy" not in imported
    names = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    names |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    assert not names & {"GradientTape", "gradient", "jacobian", "vjp", "grad"}


def _model(activation: str, hidden: list[int], dtype: str) -> keras.Model:
    from omegaconf import OmegaConf

    cfg = OmegaConf.create({"model": {"hidden_units": hidden, "activation": activation}})
    return build_model(cfg, dtype)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "swish"])
@pytest.mark.parametrize("hidden", [[32], [64, 64], [48, 32, 16]])
def test_all_layers_match_tape_in_float64(mnist: tuple, activation: str, hidden: list) -> None:
    keras.utils.set_random_seed(1)
    (x, y), _ = mnist
    inputs, targets = tf.constant(x[:16] / 255.0), tf.one_hot(y[:16], 10, dtype="float64")
    model = _model(activation, hidden, "float64")
    mine = grads_all_layers(model, inputs, targets)
    reference = tape_gradients(model, inputs, targets)
    assert [tuple(g.shape) for g in mine] == [tuple(v.shape) for v in model.trainable_variables]
    assert compare(mine, reference)["rel_error"] <= 1e-10
    assert compare(grads(model, inputs, targets), reference[-2:])["rel_error"] <= 1e-10


def _mistaken_derivative(name: str, pre_activation: tf.Tensor) -> tf.Tensor:
    """σ' at the post-activation h = σ(a) instead of a: the common published mistake."""
    return activation_derivative(name, ACTIVATIONS[name](pre_activation))


def test_checkers_catch_sigma_prime_at_the_post_activation(mnist: tuple) -> None:
    keras.utils.set_random_seed(2)
    (x, y), _ = mnist
    inputs, targets = tf.constant(x[:16] / 255.0), tf.one_hot(y[:16], 10, dtype="float64")
    model = _model("sigmoid", [64, 64], "float64")
    wrong = grads_all_layers(model, inputs, targets, derivative=_mistaken_derivative)
    assert compare(wrong, tape_gradients(model, inputs, targets))["rel_error"] > 1e-3
    fd = finite_difference_check(
        model, inputs, targets, wrong, model.trainable_variables, samples_per_variable=20, seed=0
    )
    assert not fd["passed"] and fd["max_rel_error"] > 1e-2
    right = grads_all_layers(model, inputs, targets)
    fd = finite_difference_check(
        model, inputs, targets, right, model.trainable_variables, samples_per_variable=20, seed=0
    )
    assert fd["passed"]


GRAD_NORMS = [
    f"grad_norm/mnist_mlp/{layer}/{w}"
    for layer in ("dense_1", "dense_2", "output")
    for w in ("kernel", "bias")
]


def test_seeded_float32_run(compose, num_regression) -> None:
    metrics = run(compose("mnist_gradients"))
    assert metrics["output/tape_rel_error"] <= 1e-5
    assert metrics["all_layers/tape_rel_error"] <= 1e-5
    assert metrics["output/fd_max_rel_error"] <= 1e-7 and metrics["output/fd_entries"] >= 60
    assert metrics["passed/all_layers_fd"]
    assert (Path(metrics["run_dir"]) / "gradients.npz").is_file()
    report = (Path(metrics["run_dir"]) / "report.md").read_text()
    assert "\\hat y_m - y_m" in report and f"{metrics['output/tape_rel_error']:.4g}" in report
    num_regression.check(
        {k.replace("/", "_"): [metrics[k]] for k in ["loss", *GRAD_NORMS]},
        basename="mnist_gradients_float32",
        default_tolerance={"rtol": 1e-4},
    )


def test_float64_run_reaches_1e_10(compose) -> None:
    metrics = run(
        compose(
            "mnist_gradients", ["precision=float64", "model.activation=tanh", "check.fd_samples=10"]
        )
    )
    assert metrics["output/tape_rel_error"] <= 1e-10
    assert metrics["all_layers/tape_rel_error"] <= 1e-10


@pytest.mark.parametrize(
    "override, key",
    [
        ("precision=float16", "precision"),
        ("model.activation=softmax", "model.activation"),
        ("num_examples=0", "num_examples"),
    ],
)
def test_bad_config(compose, tmp_path: Path, override: str, key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        run(compose("mnist_gradients", [override]))
    assert not (tmp_path / "logs").exists()
