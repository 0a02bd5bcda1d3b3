"""Q2's wall time and memory against merely sampling its weights, and against the coursework's
straightforward code.

    python -m benchmarks.activation_statistics

Each variant runs in a fresh child process (peak resident memory, ``ru_maxrss``, is per
process and only grows), one after another in this one run, on the coursework's network
(1024 → 8192 → 8192 → 8192 → 4096 → 4096, tanh, one input) and its three initialisations:

* ``sample only``: sample every kernel with the same Keras initialisers and seeds, then drop it;
* ``forward``: ``mlpkit.activation_statistics.propagate`` without the backward pass (each kernel
  sampled, used, released);
* ``forward+backward``: with the backward pass (one initialisation's kernels held at a time);
* ``backward, resampled``: the backward pass samples the kernels again instead of holding them;
* ``straightforward``: the coursework's way, every layer a ``tf.Variable``, all three
  initialisations' networks built and kept, then evaluated.

Printed: wall time of the computation (TensorFlow's import excluded), ratio to ``sample only``
(target ≤ 1.2 for the experiment), and the process's peak RSS (target ≤ 1.5 GB).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

WIDTHS = [8192, 8192, 8192, 4096, 4096]
INITS = ["standard_normal", "glorot_normal", "glorot_uniform"]
SEED = 42
VARIANTS = ["sample only", "forward", "forward+backward", "backward, resampled", "straightforward"]


def measure(variant: str) -> dict[str, float]:
    import tensorflow as tf

    from mlpkit.activation_statistics import propagate, sample_inputs, sample_kernel

    inputs = sample_inputs(1, 1024, SEED)
    float(tf.reduce_sum(inputs))  # TensorFlow's runtime started before the clock
    start = time.perf_counter()
    if variant == "sample only":
        for init in INITS:
            fan_in = 1024
            for k, width in enumerate(WIDTHS):
                float(sample_kernel(init, fan_in, width, SEED + k)[0, 0])
                fan_in = width
    elif variant in ("forward", "forward+backward", "backward, resampled"):
        for init in INITS:
            propagate(
                inputs,
                WIDTHS,
                init,
                "tanh",
                SEED,
                backward=variant != "forward",
                resample_kernels=variant == "backward, resampled",
            )
    else:  # every initialisation's network built first and held, as straightforward code does
        networks = {}
        for init in INITS:
            fan_in, layers = 1024, []
            for k, width in enumerate(WIDTHS):
                layers.append(
                    (
                        tf.Variable(sample_kernel(init, fan_in, width, SEED + k)),
                        tf.Variable(tf.zeros([width])),
                    )
                )
                fan_in = width
            networks[init] = layers
        for layers in networks.values():
            h = inputs
            for kernel, bias in layers:
                h = tf.tanh(tf.matmul(h, kernel) + bias)
            float(tf.reduce_mean(h))
    seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_rss_mib": peak_mib}


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--variant":
        print(json.dumps(measure(sys.argv[2])))
        return
    results = {}
    for variant in VARIANTS:
        child = subprocess.run(
            [sys.executable, "-m", "benchmarks.activation_statistics", "--variant", variant],
            capture_output=True,
            text=True,
            check=True,
        )
        results[variant] = json.loads(child.stdout.strip().splitlines()[-1])
    reference = results["sample only"]["seconds"]
    print(f"{'variant':20s} {'seconds':>8s} {'/ sample only':>14s} {'peak RSS MiB':>13s}")
    for variant, r in results.items():
        print(
            f"{variant:20s} {r['seconds']:8.2f} {r['seconds'] / reference:14.3f} "
            f"{r['peak_rss_mib']:13.0f}"
        )
    print("targets: forward / sample only <= 1.2, peak RSS <= 1536 MiB (1.5 GB)")


if __name__ == "__main__":
    main()
