"""Checks of hand-written gradients: against ``tf.GradientTape`` and centred finite differences.

* Tape: the same model, loss (``keras.losses.CategoricalCrossentropy`` in the model's dtype, a
  mean over the batch) and examples, differentiated automatically. Reported as the maximum
  absolute difference and the relative error ‖g − g_tape‖ / ‖g_tape‖ over all entries.
* Finite differences (float64): for a weight θ, (L(θ + h) − L(θ − h)) / 2h with h ≈ 1e-5,
  whose error is O(h²) plus rounding O(ε/h) ≈ 1e-11 of L. Compared per entry by CS231n's
  relative error |g − g_fd| / max(|g|, |g_fd|), with a floor so that entries that are zero in
  both are not divided by zero; CS231n calls ≤ 1e-7 correct.

  That bound is reachable only where |g| is well above the difference quotient's rounding
  error, about ε·|L|/h ≈ 2e-16 · 2.3 / 1e-5 ≈ 5e-11 absolute (measured: 2–4e-11 in every
  layer of the Q3 model). Hidden-layer weights of nearly blank pixels have |g| ~ 1e-5, where
  correct code shows relative errors near 1e-6. So :func:`finite_difference_check` also
  reports whether every entry satisfies |g − g_fd| ≤ rtol · max(|g|, |g_fd|) + 4ε|L|/h: the
  relative bound wherever finite differences can resolve it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf

GradientFn = Callable[[keras.Model, tf.Tensor, tf.Tensor], list[tf.Tensor]]


def mean_cross_entropy(model: keras.Model, inputs: tf.Tensor, y_true: tf.Tensor) -> tf.Tensor:
    loss = keras.losses.CategoricalCrossentropy(dtype=model.trainable_variables[0].dtype)
    return loss(y_true, model(inputs))


def tape_gradients(model: keras.Model, inputs: tf.Tensor, y_true: tf.Tensor) -> list[tf.Tensor]:
    with tf.GradientTape() as tape:
        loss = mean_cross_entropy(model, inputs, y_true)
    return tape.gradient(loss, model.trainable_variables)


def compare(candidate: Sequence[tf.Tensor], reference: Sequence[tf.Tensor]) -> dict[str, float]:
    """Max absolute difference and relative error ‖Δ‖/‖g‖ over all entries of all tensors."""
    a = np.concatenate([np.ravel(t) for t in candidate]).astype(np.float64)
    b = np.concatenate([np.ravel(t) for t in reference]).astype(np.float64)
    if a.shape != b.shape:
        raise ValueError(f"{a.size} gradient entries against {b.size} in the reference")
    return {
        "max_abs_diff": float(np.max(np.abs(a - b))),
        "rel_error": float(np.linalg.norm(a - b) / np.linalg.norm(b)),
    }


def finite_differences(
    model: keras.Model,
    inputs: tf.Tensor,
    y_true: tf.Tensor,
    variable: keras.Variable,
    indices: np.ndarray,
    step: float = 1e-5,
) -> np.ndarray:
    """Centred differences of the mean loss for the given flat ``indices`` of ``variable``."""
    if variable.dtype != "float64":
        raise ValueError("finite differences need float64 (float32 rounding swamps h = 1e-5)")
    original = keras.ops.convert_to_numpy(variable).copy()
    estimates = np.empty(len(indices))
    try:
        for n, index in enumerate(indices):
            values = []
            for sign in (1, -1):
                shifted = original.copy()
                shifted.flat[index] += sign * step
                variable.assign(shifted)
                values.append(float(mean_cross_entropy(model, inputs, y_true)))
            estimates[n] = (values[0] - values[1]) / (2 * step)
    finally:
        variable.assign(original)
    return estimates


def relative_errors(analytic: np.ndarray, numeric: np.ndarray, floor: float = 1e-12) -> np.ndarray:
    """CS231n's |a − n| / max(|a|, |n|), per entry, the denominator at least ``floor``."""
    return np.abs(analytic - numeric) / np.maximum(
        np.maximum(np.abs(analytic), np.abs(numeric)), floor
    )


def finite_difference_check(
    model: keras.Model,
    inputs: tf.Tensor,
    y_true: tf.Tensor,
    gradients: Sequence[tf.Tensor],
    variables: Sequence[keras.Variable],
    samples_per_variable: int,
    seed: int,
    step: float = 1e-5,
    rtol: float = 1e-7,
) -> dict[str, float | bool]:
    """``gradients`` (one per variable) against finite differences on a random sample of each
    variable's entries (all of them when it has fewer): the largest relative and absolute
    errors, and whether all entries pass ``rtol`` above the rounding floor (module docstring)."""
    rng = np.random.default_rng(seed)
    loss = float(mean_cross_entropy(model, inputs, y_true))
    floor = 4 * np.finfo(np.float64).eps * abs(loss) / step
    worst_rel = worst_abs = 0.0
    passed, checked = True, 0
    for gradient, variable in zip(gradients, variables, strict=True):
        size = int(np.prod(variable.shape))
        indices = rng.choice(size, size=min(samples_per_variable, size), replace=False)
        numeric = finite_differences(model, inputs, y_true, variable, indices, step)
        analytic = np.ravel(np.asarray(gradient, dtype=np.float64))[indices]
        error = np.abs(analytic - numeric)
        worst_rel = max(worst_rel, float(relative_errors(analytic, numeric).max()))
        worst_abs = max(worst_abs, float(error.max()))
        bound = rtol * np.maximum(np.abs(analytic), np.abs(numeric)) + floor
        passed &= bool((error <= bound).all())
        checked += len(indices)
    return {
        "max_rel_error": worst_rel,
        "max_abs_error": worst_abs,
        "rounding_floor": floor,
        "passed": passed,
        "entries": checked,
    }
