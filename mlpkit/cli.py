"""The command line of every experiment: Hydra's, with config and data errors on one line.

``python -m experiments.<name> key=value ...`` runs once; ``-m key=a,b`` sweeps; ``--cfg job``
prints the composed config. Hydra prints its own errors over several lines followed by a hint
about ``HYDRA_FULL_ERROR``; here a bad key, a wrong type, an impossible value or a missing data
file instead prints ``error: <what> (<fix>)`` on one line to stderr and exits with status 2.
Setting ``HYDRA_FULL_ERROR=1`` yourself still gives the full traceback.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import hydra
from hydra.errors import HydraException
from omegaconf import DictConfig
from omegaconf.errors import OmegaConfBaseException

from mlpkit.config import CONFIG_DIR, ConfigError
from mlpkit.datasets import DataFileError

USER_ERRORS = (ConfigError, DataFileError, HydraException, OmegaConfBaseException)


def one_line(error: BaseException) -> str:
    """The error and its causes' first lines, joined: Hydra's message and OmegaConf's reason."""
    parts: list[str] = []
    while error is not None:
        text = str(error).strip().splitlines()
        first = text[0].strip().rstrip(".") if text else type(error).__name__
        if first and first not in parts and "$VALUE" not in first:  # OmegaConf's raw template
            parts.append(first)
        full_key = next(
            (
                line.split(":", 1)[1].strip()
                for line in text
                if line.strip().startswith("full_key:")
            ),
            "",
        )
        if full_key and all(full_key not in p for p in parts):
            parts.append(f"key {full_key}")
        error = error.__cause__ or error.__context__
    return ": ".join(parts)


def hydra_entry(config_name: str, run: Callable[[DictConfig], Any]) -> None:
    """Run ``run(cfg)`` under Hydra's command line for ``configs/<config_name>.yaml``."""
    user_wants_traceback = os.environ.get("HYDRA_FULL_ERROR") == "1"
    os.environ["HYDRA_FULL_ERROR"] = "1"  # let exceptions reach us instead of Hydra's printout

    @hydra.main(config_path=str(CONFIG_DIR), config_name=config_name, version_base="1.3")
    def main(cfg: DictConfig) -> None:
        run(cfg)

    try:
        main()
    except USER_ERRORS as error:
        if user_wants_traceback:
            raise
        hint = ""
        if not isinstance(error, (ConfigError, DataFileError)):  # a key or type Hydra rejected
            hint = f" (see `python -m experiments.{config_name} --cfg job` for every key)"
        print(f"error: {one_line(error)}{hint}", file=sys.stderr)
        sys.exit(2)
