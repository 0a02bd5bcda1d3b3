r"""Activations (and gradients) of a wide MLP at initialisation, in TensorFlow only (no NumPy).

The network of coursework question 2, for a batch of B inputs as rows:

    H^(0) ∈ R^{B × n_0}, entries i.i.d. N(0, 1/2);
    H^(k+1) = σ(A^(k+1)),   A^(k+1) = H^(k) K^(k) + b^(k)

with b^(k) = 0 and K^(k) = W^(k)ᵀ ∈ R^{n_k × n_{k+1}} (the coursework's W^(k) ∈ R^{n_{k+1}×n_k},
stored as Keras stores a kernel, so an initialiser's fan_in is n_k and fan_out n_{k+1}).

Backward statistics: for the scalar s = Σ_{i,j} H^(L)_{ij} (the sum of the outputs),
G^(k) = ∂s/∂A^(k) follows G^(L) = σ'(A^(L)), G^(k) = (G^(k+1) K^(k)ᵀ) ⊙ σ'(A^(k)) (σ' from
:mod:`mlpkit.backprop`). Its per-layer norm shows whether gradients vanish towards the input.

Memory: without the backward pass each kernel is sampled, used and released before the next
(the largest, 8192², is 256 MiB). With it, one initialisation's kernels are held until the
backward pass has used them, never two initialisations' at once; or, with
``resample_kernels``, sampled again from their seeds in the backward pass, so that nothing is
held. TensorFlow's normal sampler needs about 3× the kernel transiently (768 MiB for 8192²,
measured), above a baseline of about 670 MiB: holding kernels adds to that peak.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

from mlpkit.backprop import ACTIVATIONS, activation_derivative

INITIALIZERS = {
    "standard_normal": lambda seed: keras.initializers.RandomNormal(0.0, 1.0, seed=seed),
    "glorot_normal": lambda seed: keras.initializers.GlorotNormal(seed=seed),
    "glorot_uniform": lambda seed: keras.initializers.GlorotUniform(seed=seed),
    "he_normal": lambda seed: keras.initializers.HeNormal(seed=seed),
    "lecun_normal": lambda seed: keras.initializers.LecunNormal(seed=seed),
}
SATURATION = 0.99  # |h| above this counts as saturated


def sample_inputs(num_examples: int, width: int, seed: int) -> tf.Tensor:
    """H^(0): entries i.i.d. N(0, 1/2), i.e. standard deviation √½."""
    return tf.random.stateless_normal([num_examples, width], seed=[seed, 0], stddev=tf.sqrt(0.5))


def sample_kernel(initializer: str, fan_in: int, fan_out: int, seed: int) -> tf.Tensor:
    return INITIALIZERS[initializer](seed)((fan_in, fan_out), dtype="float32")


def layer_summary(values: tf.Tensor) -> dict[str, float]:
    """Mean, standard deviation, saturated fraction (|h| > 0.99) and L2 norm of one layer."""
    return {
        "mean": float(tf.reduce_mean(values)),
        "std": float(tf.math.reduce_std(values)),
        "saturated": float(tf.reduce_mean(tf.cast(tf.abs(values) > SATURATION, tf.float32))),
        "norm": float(tf.norm(values)),
    }


def propagate(
    inputs: tf.Tensor,
    widths: list[int],
    initializer: str,
    activation: str,
    seed: int,
    backward: bool,
    resample_kernels: bool = False,
) -> dict[str, Any]:
    """``layer_activations`` H^(1..L), their summaries and, if ``backward``, the summaries of
    G^(k) = ∂(Σ outputs)/∂A^(k). Layer k's kernel uses seed ``seed + k``.

    ``resample_kernels``: the backward pass samples each kernel again from its seed (the same
    values) instead of holding them all since the forward pass: the forward pass's memory, at
    about twice its sampling time.
    """
    sigma = ACTIVATIONS[activation]
    h = inputs
    activations, pre_activations, kernels = [], [], []
    for k, width in enumerate(widths):
        kernel = sample_kernel(initializer, int(h.shape[1]), width, seed + k)
        a = tf.matmul(h, kernel)  # + b^(k) = 0
        h = sigma(a)
        activations.append(h)
        if backward:
            # the backward pass needs K^(1..L-1), not K^(0)
            kernels.append(None if resample_kernels or k == 0 else kernel)
            pre_activations.append(a)
        del kernel  # unless held above, the only reference: freed here
    result: dict[str, Any] = {
        "layer_activations": activations,
        "forward": [layer_summary(h) for h in activations],
    }
    if backward:
        g = activation_derivative(activation, pre_activations[-1])
        gradients = [g]
        for k in range(len(widths) - 1, 0, -1):
            kernel = kernels[k]
            if kernel is None:
                kernel = sample_kernel(initializer, widths[k - 1], widths[k], seed + k)
            kernels[k] = None  # released once used
            g = tf.matmul(g, kernel, transpose_b=True) * activation_derivative(
                activation, pre_activations[k - 1]
            )
            del kernel
            gradients.insert(0, g)
        result["backward"] = [layer_summary(g) for g in gradients]
    return result
