"""mlpkit: the shared mechanics of the MLP and backpropagation experiments.

``datasets`` (Keras data with a registry fallback), ``config`` (schemas and checks), ``cli``
(Hydra command line), ``runs`` (run folders, seeding, metrics.json), ``training`` (strategy,
callbacks), ``plotting`` and ``reports``.
"""

import os

# TensorFlow's C++ INFO and WARNING lines (CUDA probing, CPU features) drown the suite's output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
