"""`[world_model]` in the robot config: defaults, overrides, and one sentence per mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_runtime.config import WorldModelConfig, parse_config
from edge_runtime.errors import ConfigError

BASE = {
    "robot": {"period_s": 0.01},
    "joints": [{"name": "a", "id": 1, "min_rad": -1.0, "max_rad": 1.0}],
    "sim": {"enabled": True},
}


def test_world_model_defaults_watch_but_do_not_plan() -> None:
    config = parse_config(dict(BASE), Path("robot.toml"))
    assert config.world_model == WorldModelConfig(monitor=True, planner=False)


def test_world_model_overrides_are_read() -> None:
    data = {**BASE, "world_model": {"planner": True, "budget_ms": 30, "iterations": 2}}
    config = parse_config(data, Path("robot.toml")).world_model
    assert config.planner
    assert config.budget_ms == 30.0
    assert config.iterations == 2
    assert config.samples is None


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"budget_ms": -5}, "budget_ms = -5 is invalid: must be > 0"),
        ({"plan": True}, "unknown key 'plan' in [world_model]"),
        ({"slow_down_on_warn": 0.5}, "must be >= 1.0"),
    ],
)
def test_world_model_mistakes_are_one_sentence(table: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_config({**BASE, "world_model": table}, Path("robot.toml"))
