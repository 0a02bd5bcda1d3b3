"""The experiment as a user runs it: a fresh process, a mirrored strategy, a Hydra sweep."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from experiments.boston_housing import run
from tests.conftest import run_module

SHORT = ["training.epochs=5", "training.early_stopping.enabled=false"]


def _metrics_files(root: Path) -> list[Path]:
    return sorted(root.glob("boston_housing/**/metrics.json"))


def test_mirrored_strategy_on_two_logical_cpus(tmp_path: Path, compose) -> None:
    """`mirrored` splits the CPU in two (possible only before TF starts, so a fresh process)."""
    result = run_module(
        "experiments.boston_housing", "training.strategy=mirrored", *SHORT, f"log_dir={tmp_path}"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (metrics_file,) = _metrics_files(tmp_path)
    mirrored = json.loads(metrics_file.read_text())
    assert mirrored["num_replicas"] == 2
    single = run(compose("boston_housing", SHORT))
    assert single["num_replicas"] == 1
    # Same model, seed, data and global batch; per-replica averaging of the uneven last batch
    # (15 rows split 8 + 7) makes the trajectories drift apart slowly, not diverge.
    assert mirrored["val/mae"] == pytest.approx(single["val/mae"], rel=0.1)


def test_sweep_writes_one_folder_per_job(tmp_path: Path) -> None:
    result = run_module(
        "experiments.boston_housing",
        "-m",
        "seed=0,1",
        "training.epochs=2",
        "training.early_stopping.enabled=false",
        f"log_dir={tmp_path}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (sweep_dir,) = (tmp_path / "boston_housing").iterdir()
    assert (sweep_dir / "multirun.yaml").is_file()
    seeds = {}
    for job in ("0", "1"):
        config = (sweep_dir / job / "config.yaml").read_text()
        seeds[job] = next(line for line in config.splitlines() if line.startswith("seed:"))
        assert (sweep_dir / job / "metrics.json").is_file()
    assert seeds == {"0": "seed: 0", "1": "seed: 1"}
