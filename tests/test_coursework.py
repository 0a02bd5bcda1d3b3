"""The coursework suite: stages in order, a report quoting the run's numbers, a self-contained
HTML copy, regeneration without retraining, and a failed stage that is reported, not hidden."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hydra.errors import ConfigCompositionException

from experiments.coursework import STAGES, run
from mlpkit.config import ConfigError

SHRINK = [
    "stage_overrides.boston_housing=['training.epochs=6']",
    "stage_overrides.activation_statistics=['input_width=64','widths=[128,128]']",
    "stage_overrides.mnist_gradients=['check.fd_samples=5']",
]


@pytest.fixture(scope="module")
def coursework(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mlpkit.config import compose_config

    log_dir = tmp_path_factory.mktemp("coursework_logs")
    result = run(compose_config("coursework", [f"log_dir={log_dir}", *SHRINK]))
    return Path(result["run_dir"])


def _stages(folder: Path) -> list[dict]:
    return json.loads((folder / "stages.json").read_text())["stages"]


def test_every_stage_ran_in_order(coursework: Path) -> None:
    stages = _stages(coursework)
    assert [s["key"] for s in stages] == [key for key, *_ in STAGES]
    assert all(s["status"] == "ok" for s in stages)
    for stage in stages:
        assert (Path(stage["run_dir"]) / "metrics.json").is_file()


def test_report_answers_with_this_runs_numbers(coursework: Path) -> None:
    report = (coursework / "report.md").read_text()
    for heading in (
        "## Question 1",
        "### (c)",
        "### (d) BatchNormalization",
        "## Question 2",
        "### (b, c) Comment",
        "### (d) Interpretation",
        "## Question 3",
        r"\hat y_m - y_m",
    ):
        assert heading in report, heading
    stages = {s["key"]: s for s in _stages(coursework)}
    metrics = {
        key: json.loads((Path(s["run_dir"]) / "metrics.json").read_text())
        for key, s in stages.items()
    }
    assert f"standardised model's {metrics['Q1(b)']['val/mae']:.2f}" in report
    assert f"validation MAE {metrics['Q1(d)']['val/mae']:.2f}" in report
    q2 = metrics["Q2"]
    assert f"{q2['standard_normal/layer_1/std']:.3f} / " in report
    assert f"{metrics['Q3']['output/tape_rel_error']:.4g}" in report
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report)
    assert len(images) >= 7
    for image in images:
        assert (coursework / image).is_file(), image


def test_html_is_self_contained(coursework: Path) -> None:
    html = (coursework / "report.html").read_text()
    sources = re.findall(r'<img [^>]*src="([^"]+)"', html)
    markdown_images = re.findall(r"!\[", (coursework / "report.md").read_text())
    assert len(sources) == len(markdown_images)
    assert all(src.startswith("data:image/png;base64,") for src in sources)
    assert "<table>" in html and "Question 3" in html


def test_report_regenerates_without_training(coursework: Path, compose) -> None:
    original = (coursework / "report.md").read_text()
    original_html = (coursework / "report.html").read_text()
    (coursework / "report.md").unlink()
    (coursework / "report.html").unlink()
    run(compose("coursework", [f"report={coursework}"]))
    assert (coursework / "report.md").read_text() == original
    assert (coursework / "report.html").read_text() == original_html


def test_failed_stage_is_reported_and_the_others_still_run(compose, tmp_path: Path, capsys) -> None:
    broken = [*SHRINK[:2], "stage_overrides.mnist_gradients=['precision=float16']"]
    with pytest.raises(SystemExit) as exit_info:
        run(compose("coursework", broken))
    assert exit_info.value.code == 1
    (folder,) = (tmp_path / "logs" / "coursework").iterdir()
    stages = {s["key"]: s for s in _stages(folder)}
    assert stages["Q3"]["status"] == "failed" and "precision" in stages["Q3"]["error"]
    assert all(stages[k]["status"] == "ok" for k in ("Q1(b)", "Q1(c)", "Q1(d)", "Q2"))
    report = (folder / "report.md").read_text()
    assert "Q3 failed, so there is no answer" in report and "### (d) BatchNormalization" in report
    output = capsys.readouterr().out
    assert "Q3 FAILED: ConfigError" in output and "1 stage(s) failed: Q3" in output


def test_unknown_stage_override_is_rejected(compose) -> None:
    with pytest.raises(ConfigCompositionException):
        compose("coursework", ["stage_overrides.bostn=['seed=1']"])


def test_report_of_a_folder_that_is_none(compose, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no coursework folder"):
        run(compose("coursework", [f"report={tmp_path}"]))
