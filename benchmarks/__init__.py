"""benchmarks: one module per entry point; see each module's docstring."""

import mlpkit  # noqa: F401  (sets TensorFlow's log level before TensorFlow loads)
