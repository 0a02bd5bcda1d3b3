"""Run folders, seeding and the files every run writes (``config.yaml``, ``metrics.json``).

One run, one folder: ``<log_dir>/<experiment>/<YYYY-MM-DD_HH-MM-SS>/``; a second run in the
same second gets a ``_2`` suffix, so nothing overwrites an earlier run. Inside a Hydra sweep
(``-m``) the run folder is the job's folder Hydra made, ``<log_dir>/<experiment>/<time>/<job>/``,
beside the sweep's ``multirun.yaml``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf


def seed_everything(seed: int) -> None:
    """Python, NumPy, TensorFlow and Keras seeds from one integer, and deterministic TF ops."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def _hydra_sweep_job_dir() -> Path | None:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized():
        return None
    hydra_cfg = HydraConfig.get()
    if hydra_cfg.mode != RunMode.MULTIRUN:
        return None
    return Path(hydra_cfg.runtime.output_dir)


def create_run_dir(log_dir: str | Path, experiment: str) -> Path:
    """A new, empty folder for this run (see the module docstring for where)."""
    job_dir = _hydra_sweep_job_dir()
    if job_dir is not None:
        job_dir.mkdir(parents=True, exist_ok=True)
        return job_dir
    parent = Path(log_dir) / experiment
    parent.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    for attempt in range(1, 1000):
        candidate = parent / (stamp if attempt == 1 else f"{stamp}_{attempt}")
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue
    raise RuntimeError(f"could not create a new run folder under {parent}")


def save_config(cfg: DictConfig, run_dir: Path) -> Path:
    """The resolved config, as the run used it, in ``config.yaml``."""
    path = run_dir / "config.yaml"
    OmegaConf.save(cfg, path, resolve=True)
    return path


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):  # NumPy / TensorFlow scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN; `diverged` in the metrics says why

    return value


def write_metrics(metrics: dict[str, Any], run_dir: Path) -> Path:
    """``metrics.json``: plain JSON numbers (null for NaN or infinity), keys sorted."""
    path = run_dir / "metrics.json"
    path.write_text(json.dumps(_plain(metrics), indent=2, sort_keys=True) + "\n")
    return path


def read_metrics(run_dir: str | Path) -> dict[str, Any]:
    return json.loads((Path(run_dir) / "metrics.json").read_text())


@contextmanager
def timed() -> Iterator[dict[str, float]]:
    """``with timed() as t: ...`` then ``t["seconds"]`` is the wall time of the block."""
    result = {"seconds": float("nan")}
    start = time.perf_counter()
    try:
        yield result
    finally:
        result["seconds"] = time.perf_counter() - start
