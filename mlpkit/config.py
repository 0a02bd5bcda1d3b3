"""Typed config schemas shared by the experiments, and the checks Hydra's types cannot express.

Each experiment's YAML in ``configs/`` holds the values; the dataclasses here and in the
experiment modules are the *schema* (Hydra structured configs, registered in the ConfigStore),
so an unknown key or a wrong type fails at composition. Value checks (a positive learning rate,
a known activation or optimizer, a monitor that is logged) run in :func:`check_*` before any run
folder is created. Every failure is a :class:`ConfigError` whose message is one line that names
the key and says how to fix it.

Metric names follow the suite's convention ``train/loss``, ``val/mae``; Keras's own names
(``loss``, ``val_mae``) appear only where Keras needs them (:func:`keras_metric_name`).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from omegaconf import MISSING, DictConfig, OmegaConf

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"


class ConfigError(ValueError):
    """A config value is impossible; the message names the key and the fix."""


@dataclass
class RunConfig:
    """The fields every experiment's schema starts with."""

    experiment: str = MISSING  # the run folders go to <log_dir>/<experiment>/
    seed: int = MISSING
    log_dir: str = MISSING


@dataclass
class OptimizerConfig:
    name: str = MISSING  # sgd, adam, adamw, rmsprop, nadam
    learning_rate: float = MISSING
    momentum: float = 0.0  # sgd and rmsprop only
    nesterov: bool = False  # sgd only
    schedule: str = "constant"  # constant | cosine (decays to 0 over the whole training)


@dataclass
class EarlyStoppingConfig:
    enabled: bool = MISSING
    monitor: str = MISSING  # e.g. val/mae
    patience: int = MISSING
    restore_best_weights: bool = MISSING


@dataclass
class TrainingConfig:
    epochs: int = MISSING
    early_stopping: EarlyStoppingConfig = field(default_factory=EarlyStoppingConfig)
    strategy: str = MISSING  # none | mirrored
    cpu_devices: int = 2  # logical CPU devices that `mirrored` splits the CPU into
    histogram_freq: int = MISSING  # TensorBoard weight histograms every N epochs; 0 = off
    backup_and_restore: bool = MISSING  # keras.callbacks.BackupAndRestore in the run folder
    verbose: int = 0  # Keras fit verbosity
    steps_per_execution: int = 1  # training steps per compiled call (less Python per step)


def _optimizer_classes() -> dict[str, type]:
    import keras

    return {
        "sgd": keras.optimizers.SGD,
        "adam": keras.optimizers.Adam,
        "adamw": keras.optimizers.AdamW,
        "rmsprop": keras.optimizers.RMSprop,
        "nadam": keras.optimizers.Nadam,
    }


def keras_metric_name(name: str) -> str:
    """``val/mae`` → ``val_mae``, ``train/loss`` → ``loss``: the name in Keras's logs."""
    split, _, metric = name.partition("/")
    if split not in ("train", "val") or not metric:
        raise ConfigError(f"metric name {name!r} must look like train/<metric> or val/<metric>")
    return metric if split == "train" else f"val_{metric}"


def check_positive(cfg: DictConfig, *keys: str, allow_zero: bool = False) -> None:
    for key in keys:
        value = OmegaConf.select(cfg, key)
        if value < 0 or (value == 0 and not allow_zero):
            bound = ">= 0" if allow_zero else "> 0"
            raise ConfigError(f"{key}={value} is impossible: it must be {bound}")


def check_fraction(cfg: DictConfig, key: str, *, low_open: bool = True) -> None:
    value = OmegaConf.select(cfg, key)
    if not ((0 < value if low_open else 0 <= value) and value < 1):
        raise ConfigError(
            f"{key}={value} is impossible: it must lie in {'(' if low_open else '['}0, 1)"
        )


def check_choice(cfg: DictConfig, key: str, choices: list[str]) -> None:
    value = OmegaConf.select(cfg, key)
    if value not in choices:
        raise ConfigError(f"{key}={value!r} is unknown: choose one of {', '.join(choices)}")


def check_layer_widths(cfg: DictConfig, key: str) -> None:
    widths = OmegaConf.select(cfg, key)
    if not widths:
        raise ConfigError(f"{key} is empty: list at least one layer width, e.g. {key}=[32,16]")
    for i, units in enumerate(widths):
        if units <= 0:
            raise ConfigError(f"{key}[{i}]={units} is impossible: a layer width must be > 0")


def check_activation(cfg: DictConfig, key: str) -> None:
    import keras

    name = OmegaConf.select(cfg, key)
    try:
        keras.activations.get(name)
    except (ValueError, TypeError):
        raise ConfigError(
            f"{key}={name!r} is not a Keras activation: use e.g. relu, tanh, "
            "sigmoid, swish, gelu, elu, selu, linear"
        ) from None


def check_optimizer(cfg: DictConfig, key: str = "optimizer") -> None:
    opt = OmegaConf.select(cfg, key)
    check_choice(cfg, f"{key}.name", list(_optimizer_classes()))
    check_positive(cfg, f"{key}.learning_rate")
    if not 0 <= opt.momentum < 1:
        raise ConfigError(f"{key}.momentum={opt.momentum} is impossible: it must lie in [0, 1)")
    check_choice(cfg, f"{key}.schedule", ["constant", "cosine"])
    accepted = inspect.signature(_optimizer_classes()[opt.name]).parameters
    for option, unset in (("momentum", 0.0), ("nesterov", False)):
        if opt[option] != unset and option not in accepted:
            raise ConfigError(
                f"{key}.{option}={opt[option]} does not apply to {opt.name}: "
                f"set {key}.{option}={unset} or choose an optimizer that takes it"
            )


def check_training(cfg: DictConfig, logged_metrics: list[str], key: str = "training") -> None:
    """Checks of :class:`TrainingConfig`; ``logged_metrics`` are the names fit will log."""
    check_positive(cfg, f"{key}.epochs", f"{key}.cpu_devices", f"{key}.steps_per_execution")
    check_positive(cfg, f"{key}.histogram_freq", allow_zero=True)
    check_choice(cfg, f"{key}.strategy", ["none", "mirrored"])
    early = OmegaConf.select(cfg, f"{key}.early_stopping")
    check_positive(cfg, f"{key}.early_stopping.patience", allow_zero=True)
    if early.enabled:
        check_choice(cfg, f"{key}.early_stopping.monitor", logged_metrics)


def make_optimizer(opt: DictConfig, total_steps: int | None = None) -> Any:
    """The Keras optimizer an :class:`OptimizerConfig` describes (checked by check_optimizer);
    ``total_steps`` is the length of a ``cosine`` schedule."""
    import keras

    learning_rate: Any = opt.learning_rate
    if opt.schedule == "cosine":
        if not total_steps:
            raise ConfigError("optimizer.schedule=cosine needs the number of training steps")
        learning_rate = keras.optimizers.schedules.CosineDecay(opt.learning_rate, total_steps)
    options: dict[str, Any] = {"learning_rate": learning_rate}
    accepted = inspect.signature(_optimizer_classes()[opt.name]).parameters
    options.update({k: opt[k] for k in ("momentum", "nesterov") if k in accepted})
    return _optimizer_classes()[opt.name](**options)


def compose_config(name: str, overrides: list[str] | None = None) -> DictConfig:
    """Compose ``configs/<name>.yaml`` with overrides, inside or outside a Hydra app."""
    overrides = list(overrides or [])
    if GlobalHydra.instance().is_initialized():
        return compose(config_name=name, overrides=overrides)
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        return compose(config_name=name, overrides=overrides)
