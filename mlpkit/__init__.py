"""mlpkit: the shared mechanics of the MLP and backpropagation experiments.

``datasets`` (Keras data with a registry fallback), ``config`` (schemas and checks), ``cli``
(Hydra command line), ``runs`` (run folders, seeding, metrics.json), ``training`` (strategy,
callbacks), ``plotting`` and ``reports``.
"""
