"""Bad input gets one clear line naming the key, a non-zero exit, and no run folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra.errors import ConfigCompositionException

from experiments.boston_housing import run
from mlpkit.config import ConfigError
from tests.conftest import run_module

IMPOSSIBLE_VALUES = {
    "optimizer.learning_rate=0": "optimizer.learning_rate",
    "optimizer.learning_rate=-1e-3": "optimizer.learning_rate",
    "data.batch_size=0": "data.batch_size",
    "training.epochs=0": "training.epochs",
    "model.activation=swishy": "model.activation",
    "optimizer.name=adagradx": "optimizer.name",
    "optimizer.name=adam": "optimizer.momentum",  # momentum 0.9 would be silently ignored
    "model.hidden_units=[32,0]": "model.hidden_units[1]",
    "data.val_fraction=1.5": "data.val_fraction",
    "training.early_stopping.monitor=val/accuracy": "training.early_stopping.monitor",
    "training.strategy=horovod": "training.strategy",
}


@pytest.mark.parametrize("override", list(IMPOSSIBLE_VALUES))
def test_impossible_value_names_key_and_writes_nothing(
    compose, tmp_path: Path, override: str
) -> None:
    cfg = compose("boston_housing", [override])
    with pytest.raises(ConfigError) as error:
        run(cfg)
    message = str(error.value)
    assert IMPOSSIBLE_VALUES[override] in message and "\n" not in message
    assert not (tmp_path / "logs").exists()


@pytest.mark.parametrize(
    "override",
    [
        "model.widths=[8]",
        "optimizer.learning_rate=fast",
        "training.epochs=2.5",
        "data.standardize=maybe",
    ],
)
def test_unknown_key_or_wrong_type_fails_at_composition(compose, override: str) -> None:
    with pytest.raises(ConfigCompositionException):
        compose("boston_housing", [override])


@pytest.mark.parametrize(
    "override, key",
    [
        ("model.widths=[8]", "model.widths"),
        ("optimizer.learning_rate=fast", "optimizer.learning_rate"),
        ("optimizer.learning_rate=-0.1", "optimizer.learning_rate"),
    ],
)
def test_command_line_error_is_one_line_exit_2_no_folder(
    tmp_path: Path, override: str, key: str
) -> None:
    result = run_module("experiments.boston_housing", override, f"log_dir={tmp_path}")
    assert result.returncode == 2, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and key in errors[0], result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []
