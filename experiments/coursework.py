"""The coursework as one job: question 1's three configurations, then question 3.

Command
    python -m experiments.coursework [seed=42]      # what `make run` runs

Runs ``experiments.boston_housing`` with the default config, ``data.standardize=false`` and
``data.standardize=false model.input_batchnorm=true`` (each in its own run folder under
``logs/boston_housing/``), then ``experiments.mnist_gradients``; prints one progress line per
stage and a comparison table, and writes the tables with links to each run into
``logs/coursework/<time>/report.md``. About 35 s on the 2-core CPU.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, DictConfig

import experiments.boston_housing as boston_housing
import experiments.mnist_gradients as mnist_gradients
from mlpkit.cli import hydra_entry
from mlpkit.config import compose_config
from mlpkit.reports import markdown_table, text_table
from mlpkit.runs import create_run_dir, save_config, write_metrics

log = logging.getLogger(__name__)

Q1_VARIANTS = {
    "(b) standardised inputs": [],
    "(c) raw inputs": ["data.standardize=false"],
    "(d) BatchNorm on raw inputs": ["data.standardize=false", "model.input_batchnorm=true"],
}
STAGES = len(Q1_VARIANTS) + 1  # the Q1 runs, then Q3
Q3_KEYS = [
    "output/tape_rel_error",
    "all_layers/tape_rel_error",
    "output/fd_max_rel_error",
    "all_layers/fd_max_abs_error",
    "passed/output_tape",
    "passed/output_fd",
]
COLUMNS = ["val/mae", "val/mse", "test/mae", "best_epoch", "epochs_run", "wall_time_s"]


@dataclass
class CourseworkConfig:
    experiment: str = MISSING
    seed: int = MISSING
    log_dir: str = MISSING


ConfigStore.instance().store(name="coursework_schema", node=CourseworkConfig)


def run(cfg: DictConfig) -> dict[str, Any]:
    results = {}
    for stage, (name, overrides) in enumerate(Q1_VARIANTS.items(), start=1):
        print(f"[{stage}/{STAGES}] Q1{name} ...", flush=True)
        q1 = compose_config(
            "boston_housing", [f"seed={cfg.seed}", f"log_dir={cfg.log_dir}", *overrides]
        )
        results[name] = boston_housing.run(q1)
    print(f"[{STAGES}/{STAGES}] Q3 backpropagation by hand ...", flush=True)
    q3 = mnist_gradients.run(
        compose_config("mnist_gradients", [f"seed={cfg.seed}", f"log_dir={cfg.log_dir}"])
    )
    rows = [[name, *(m[c] for c in COLUMNS)] for name, m in results.items()]
    print(text_table(["Q1 configuration", *COLUMNS], rows))
    q3_rows = [[key, q3[key]] for key in Q3_KEYS]
    print(text_table(["Q3 check", "value"], q3_rows))
    run_dir = create_run_dir(cfg.log_dir, cfg.experiment)
    save_config(cfg, run_dir)
    links = "\n".join(
        f"- {name}: [{m['run_dir']}]({os.path.relpath(m['run_dir'], run_dir)}/report.md)"
        for name, m in results.items()
    )
    (run_dir / "report.md").write_text(
        f"# Coursework, seed {cfg.seed}\n\n## Question 1: Boston housing\n\n"
        f"{markdown_table(['configuration', *COLUMNS], rows)}\n\n{links}\n\n"
        f"## Question 3: backpropagation by hand\n\n"
        f"{markdown_table(['check', 'value'], q3_rows)}\n\n"
        f"- [{q3['run_dir']}]({os.path.relpath(q3['run_dir'], run_dir)}/report.md)\n"
    )
    metrics = {
        f"q1{name.split()[0]}/{key}": m[key] for name, m in results.items() for key in COLUMNS
    }
    metrics.update({f"q3/{key}": q3[key] for key in Q3_KEYS})
    write_metrics(metrics, run_dir)
    print(f"report: {run_dir / 'report.md'}")
    return metrics


if __name__ == "__main__":
    hydra_entry("coursework", run)
