r"""Backpropagation by hand for a Sequential softmax MLP, in TensorFlow ops only.

No automatic differentiation (no ``GradientTape``) and no NumPy: every derivative below is
written out and computed with ``tf`` ops. :mod:`mlpkit.gradient_check` verifies it.

Notation (the coursework's). For one example, with K hidden layers,

    h^(0) = x ∈ R^{n_0},   a^(k+1) = W^(k) h^(k) + b^(k),   h^(k+1) = σ(a^(k+1))  (k < K),
    ŷ = softmax(a^(K+1)),   a^(K+1) = W^(K) h^(K) + b^(K),   W^(k) ∈ R^{n_{k+1} × n_k}.

Keras stores each Dense kernel as the transpose, K^(k) = W^(k)ᵀ ∈ R^{n_k × n_{k+1}}, and a
batch as rows, H^(k) ∈ R^{B × n_k}: A^(k+1) = H^(k) K^(k) + b^(k). Everything here uses
Keras's layout, so the gradients have the shapes of the model's variables and can be compared
with, and applied like, Keras's.

Loss: categorical cross-entropy averaged over the batch, as
``keras.losses.CategoricalCrossentropy()``: L = (1/B) Σ_i L_i, L_i = −Σ_j y_ij log ŷ_ij.

Output error (docs/backprop.md derives it, off-diagonal softmax Jacobian terms included):
∂L_i/∂a^(K+1) = ŷ_i − y_i, so for the batch mean δ^(K+1) = ∂L/∂A^(K+1) = (Ŷ − Y)/B.

Each Dense layer, from the output back:

    ∂L/∂K^(k) = H^(k)ᵀ δ^(k+1)   (the transpose of the coursework's Σ_i δ_i^(k+1) h_i^(k)ᵀ)
    ∂L/∂b^(k) = Σ_i δ_i^(k+1)
    δ^(k)     = (δ^(k+1) K^(k)ᵀ) ⊙ σ'(A^(k))   — σ' at the PRE-activation A^(k), not at H^(k)
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import tensorflow as tf

Derivative = Callable[[str, tf.Tensor], tf.Tensor]

ACTIVATIONS: dict[str, Callable[[tf.Tensor], tf.Tensor]] = {
    "linear": tf.identity,
    "sigmoid": tf.sigmoid,
    "tanh": tf.tanh,
    "relu": tf.nn.relu,
    "swish": lambda a: a * tf.sigmoid(a),
    "silu": lambda a: a * tf.sigmoid(a),
}


def activation_derivative(name: str, a: tf.Tensor) -> tf.Tensor:
    """σ'(a), elementwise, for the hidden activations this module supports."""
    if name == "linear":
        return tf.ones_like(a)
    if name == "sigmoid":
        s = tf.sigmoid(a)
        return s * (1 - s)
    if name == "tanh":
        return 1 - tf.square(tf.tanh(a))
    if name == "relu":
        return tf.cast(a > 0, a.dtype)
    if name in ("swish", "silu"):  # d/da [a σ(a)] = σ(a) + a σ(a)(1 − σ(a))
        s = tf.sigmoid(a)
        return s + a * s * (1 - s)
    raise ValueError(f"no derivative for activation {name!r}: use one of {', '.join(ACTIVATIONS)}")


def dense_stack(model: keras.Model) -> list[tuple[keras.layers.Dense, str]]:
    """The model's Dense layers, each with the activation that follows it (its own or the next
    ``Activation`` layer's); the last must be softmax."""
    stack: list[list] = []
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Flatten, keras.layers.InputLayer)):
            continue
        if isinstance(layer, keras.layers.Dense):
            stack.append([layer, keras.activations.serialize(layer.activation)])
        elif isinstance(layer, keras.layers.Activation) and stack and stack[-1][1] == "linear":
            stack[-1][1] = keras.activations.serialize(layer.activation)
        else:
            raise ValueError(
                f"layer {layer.name} ({type(layer).__name__}) is not supported: "
                "use Flatten, Dense and Activation layers"
            )
    if not stack or stack[-1][1] != "softmax":
        raise ValueError("the model must end in a softmax (the output error is ŷ − y)")
    return [(dense, activation) for dense, activation in stack]


def forward(
    stack: list[tuple[keras.layers.Dense, str]],
    inputs: tf.Tensor,
) -> tuple[tf.Tensor, list[tuple[tf.Tensor, tf.Tensor]]]:
    """ŷ and, per Dense layer, its input H^(k) and pre-activation A^(k+1)."""
    dtype = stack[0][0].kernel.dtype
    h = tf.reshape(tf.cast(inputs, dtype), [tf.shape(inputs)[0], -1])  # Flatten
    cache = []
    for dense, activation in stack:
        a = tf.matmul(h, dense.kernel.value) + dense.bias.value
        cache.append((h, a))
        h = tf.nn.softmax(a, axis=-1) if activation == "softmax" else ACTIVATIONS[activation](a)
    return h, cache


def output_delta(y_pred: tf.Tensor, y_true: tf.Tensor) -> tf.Tensor:
    """δ = ∂L/∂A^(K+1) = (Ŷ − Y)/B for softmax with mean categorical cross-entropy."""
    batch = tf.cast(tf.shape(y_pred)[0], y_pred.dtype)
    return (y_pred - tf.cast(y_true, y_pred.dtype)) / batch


def dense_gradients(h: tf.Tensor, delta: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """(∂L/∂K, ∂L/∂b) = (Hᵀ δ, Σ_i δ_i) of one Dense layer."""
    return tf.matmul(h, delta, transpose_a=True), tf.reduce_sum(delta, axis=0)


def grads(model: keras.Model, inputs: tf.Tensor, y_true: tf.Tensor) -> list[tf.Tensor]:
    """[∂L/∂K^(K), ∂L/∂b^(K)]: the output layer's gradients (kernel (n_K, 10), bias (10,))."""
    y_pred, cache = forward(dense_stack(model), inputs)
    h_last, _ = cache[-1]
    return list(dense_gradients(h_last, output_delta(y_pred, y_true)))


def grads_all_layers(
    model: keras.Model,
    inputs: tf.Tensor,
    y_true: tf.Tensor,
    derivative: Derivative = activation_derivative,
) -> list[tf.Tensor]:
    """[∂L/∂K^(0), ∂L/∂b^(0), …, ∂L/∂K^(K), ∂L/∂b^(K)]: ``model.trainable_variables``'s order.

    ``derivative(name, pre_activation)`` is σ'; it is a parameter so that a test can hand in
    a mistaken one and watch the checker catch it.
    """
    stack = dense_stack(model)
    y_pred, cache = forward(stack, inputs)
    delta = output_delta(y_pred, y_true)
    gradients: list[tf.Tensor] = []
    for k in range(len(stack) - 1, -1, -1):
        h, _ = cache[k]
        gradients[:0] = dense_gradients(h, delta)
        if k > 0:
            _, a_below = cache[k - 1]  # A^(k): the pre-activation whose σ gave H^(k)
            activation = stack[k - 1][1]
            delta = tf.matmul(delta, stack[k][0].kernel.value, transpose_b=True) * derivative(
                activation, a_below
            )
    return gradients
