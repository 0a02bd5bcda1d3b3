"""The coursework as one job: questions 1, 2 and 3 with one seed, and a report that answers them.

Command
    python -m experiments.coursework [seed=42]                  # what `make run` runs
    python -m experiments.coursework report=logs/coursework/<time>   # rewrite a report, no training

Runs, in order, Q1(b) ``boston_housing``, Q1(c) with ``data.standardize=false``, Q1(d) with
BatchNorm on the raw features, Q2 ``activation_statistics`` (one input, as the coursework, then
256), Q3 ``mnist_gradients``, each
in its own run folder, printing one line per stage. A stage that fails is reported (which, and
why) and the others still run; the report covers the stages that ran and the exit status is 1.
``logs/coursework/<time>/`` gets ``stages.json`` (what ran where), ``report.md`` (questions in
order, figures, tables, written answers quoting this run's numbers) and ``report.html`` (the
same, self-contained). About 45 s on the 2-core CPU.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import DictConfig

import experiments.activation_statistics as activation_statistics
import experiments.boston_housing as boston_housing
import experiments.mnist_gradients as mnist_gradients
from mlpkit.cli import hydra_entry, one_line
from mlpkit.config import ConfigError, RunConfig, compose_config
from mlpkit.coursework_report import write_report
from mlpkit.reports import text_table
from mlpkit.runs import create_run_dir, save_config, timed

log = logging.getLogger(__name__)

EXPERIMENTS: dict[str, Callable[[DictConfig], dict[str, Any]]] = {
    "boston_housing": boston_housing.run,
    "activation_statistics": activation_statistics.run,
    "mnist_gradients": mnist_gradients.run,
}
# (key, title, experiment, overrides), in the coursework's order
STAGES = [
    ("Q1(b)", "standardised inputs", "boston_housing", []),
    ("Q1(c)", "raw inputs", "boston_housing", ["data.standardize=false"]),
    (
        "Q1(d)",
        "BatchNorm on raw inputs",
        "boston_housing",
        ["data.standardize=false", "model.input_batchnorm=true"],
    ),
    ("Q2", "activations at initialisation", "activation_statistics", []),
    ("Q2+", "the same over 256 inputs", "activation_statistics", ["num_examples=256"]),
    ("Q3", "backpropagation by hand", "mnist_gradients", []),
]
HEADLINE = {
    "boston_housing": "val/mae",
    "activation_statistics": "glorot_normal/layer_5/std",
    "mnist_gradients": "output/tape_rel_error",
}


@dataclass
class StageOverrides:
    """Extra overrides for each experiment's stages, e.g. for short test runs."""

    boston_housing: list[str] = field(default_factory=list)
    activation_statistics: list[str] = field(default_factory=list)
    mnist_gradients: list[str] = field(default_factory=list)


@dataclass
class CourseworkConfig(RunConfig):
    report: str | None = None  # a finished coursework folder: rewrite its report only
    stage_overrides: StageOverrides = field(default_factory=StageOverrides)


ConfigStore.instance().store(name="coursework_schema", node=CourseworkConfig)


def run(cfg: DictConfig) -> dict[str, Any]:
    if cfg.report:
        folder = Path(cfg.report)
        if not (folder / "stages.json").is_file():
            raise ConfigError(f"report={cfg.report}: no coursework folder (stages.json) there")
        paths = write_report(folder)
        print(f"report: {paths[0]} and {paths[1]}")
        return {"report": str(paths[0])}
    folder = create_run_dir(cfg.log_dir, cfg.experiment)
    save_config(cfg, folder)
    records = []
    for number, (key, title, experiment, overrides) in enumerate(STAGES, start=1):
        print(f"[{number}/{len(STAGES)}] {key} {title} ({experiment}) ...", flush=True)
        record: dict[str, Any] = {"key": key, "title": title, "experiment": experiment}
        try:
            stage_cfg = compose_config(
                experiment,
                [
                    f"seed={cfg.seed}",
                    f"log_dir={cfg.log_dir}",
                    *overrides,
                    *cfg.stage_overrides[experiment],
                ],
            )
            with timed() as elapsed:
                metrics = EXPERIMENTS[experiment](stage_cfg)
            record.update(
                status="ok",
                run_dir=metrics["run_dir"],
                seconds=elapsed["seconds"],
                headline=metrics.get(HEADLINE[experiment]),
            )
        except Exception as error:  # a failed stage is reported; the others still run
            record.update(status="failed", error=f"{type(error).__name__}: {one_line(error)}")
            print(f"[{number}/{len(STAGES)}] {key} FAILED: {record['error']}", flush=True)
        records.append(record)
        (folder / "stages.json").write_text(
            json.dumps({"seed": cfg.seed, "stages": records}, indent=2) + "\n"
        )
    report_md, report_html = write_report(folder)
    print(
        text_table(
            ["stage", "status", "seconds", "headline", "value"],
            [
                [
                    r["key"],
                    r["status"],
                    r.get("seconds", float("nan")),
                    HEADLINE[r["experiment"]],
                    r.get("headline", "—"),
                ]
                for r in records
            ],
        )
    )
    print(f"report: {report_md} and {report_html}")
    failed = [r["key"] for r in records if r["status"] != "ok"]
    if failed:
        print(f"error: {len(failed)} stage(s) failed: {', '.join(failed)}", flush=True)
        raise SystemExit(1)
    return {"run_dir": str(folder), "stages": records}


if __name__ == "__main__":
    hydra_entry("coursework", run)
