"""Shared fixtures: the real configs composed with Hydra, shrunk or run once per session."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from omegaconf import DictConfig

import experiments.boston_housing as boston_housing
from mlpkit.config import compose_config

REPO = Path(__file__).resolve().parent.parent

BOSTON_VARIANTS = {
    "default": [],
    "raw_inputs": ["data.standardize=false"],
    "input_batchnorm": ["data.standardize=false", "model.input_batchnorm=true"],
}


@pytest.fixture
def compose(tmp_path: Path) -> Callable[..., DictConfig]:
    """``compose(name, overrides)``: the real config, logging under this test's tmp_path."""

    def _compose(name: str, overrides: list[str] | None = None) -> DictConfig:
        return compose_config(name, [f"log_dir={tmp_path / 'logs'}", *(overrides or [])])

    return _compose


@pytest.fixture(scope="session")
def boston_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """The three Q1 configurations, full length, seeded as in configs/: their metrics."""
    log_dir = tmp_path_factory.mktemp("boston_logs")
    return {
        name: boston_housing.run(compose_config("boston_housing", [f"log_dir={log_dir}", *extra]))
        for name, extra in BOSTON_VARIANTS.items()
    }


def run_module(
    module: str,
    *args: str,
    cwd: Path = REPO,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """``python -m <module> args...`` in a fresh interpreter, as a user types it."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
