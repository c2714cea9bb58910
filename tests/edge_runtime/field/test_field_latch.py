"""The latch file and the ack log: a stop stays latched until acked; the ack says who and why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edge_runtime.config import parse_config
from edge_runtime.errors import EXIT_LATCHED, ConfigError, EdgeRuntimeError, StopLatched
from edge_runtime.field.latch import LatchedStop, StopLatch
from edge_runtime.field.state_dir import resolve_state_dir, writable_state_dir
from edge_runtime.field.status import acknowledge_stop, field_status


def test_a_latched_stop_refuses_until_acknowledged(tmp_path: Path) -> None:
    latch = StopLatch(tmp_path)
    latch.refuse_if_latched()  # nothing latched: arms
    latch.latch(LatchedStop("safety stop: stale_observation for 510 ms", robot="cell-3"))
    with pytest.raises(StopLatched) as refused:
        latch.refuse_if_latched()
    assert refused.value.exit_code == EXIT_LATCHED
    assert "stale_observation for 510 ms" in str(refused.value)
    assert "edgerun status" in str(refused.value)
    assert "edgerun ack" in str(refused.value)
    ack = latch.acknowledge("Ana", "reseated the camera cable")
    assert ack is not None
    assert ack.cleared.reason.endswith("510 ms")
    latch.refuse_if_latched()
    assert latch.acknowledge("Ana", "again") is None  # nothing left to clear


def test_the_ack_log_is_appended_with_who_why_and_the_stop(tmp_path: Path) -> None:
    latch = StopLatch(tmp_path)
    for reason in ("first", "second"):
        latch.latch(LatchedStop(f"safety stop: {reason}"))
        latch.acknowledge("Ana", f"checked the {reason}")
    lines = [json.loads(line) for line in latch.log_path.read_text().splitlines()]
    assert [line["cleared"]["reason"] for line in lines] == [
        "safety stop: first",
        "safety stop: second",
    ]
    assert {"by", "why", "at", "user", "host"} <= set(lines[0])
    assert [a.why for a in latch.acknowledgements()] == ["checked the first", "checked the second"]


def test_an_unreadable_latch_counts_as_latched(tmp_path: Path) -> None:
    latch = StopLatch(tmp_path)
    latch.path.write_text("{half a write")
    with pytest.raises(StopLatched, match="corrupt"):
        latch.refuse_if_latched()
    assert latch.acknowledge("Ana", "looked at the robot") is not None
    latch.refuse_if_latched()


def test_an_ack_needs_who_and_why(tmp_path: Path) -> None:
    latch = StopLatch(tmp_path)
    latch.latch(LatchedStop("safety stop: x"))
    with pytest.raises(EdgeRuntimeError, match="--by NAME --why"):
        latch.acknowledge(" ", "fixed")
    assert latch.read() is not None  # still latched


def test_status_and_ack_find_the_state_dir_of_the_config(tmp_path: Path) -> None:
    config = tmp_path / "robot.toml"
    config.write_text(_robot('state_dir = "state"'))
    StopLatch(tmp_path / "state").latch(LatchedStop("safety stop: y"))
    status = field_status(str(config))
    assert status.exit_code == EXIT_LATCHED
    assert any("LATCHED" in line and "safety stop: y" in line for line in status.lines())
    assert "cleared the safety stop" in acknowledge_stop(str(config), "Ana", "ok")
    assert field_status(str(config)).exit_code == 0


def test_state_dir_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    configured = parse_config(_toml(_robot('state_dir = "here"')), tmp_path / "robot.toml")
    plain = parse_config(_toml(_robot("")), tmp_path / "robot.toml")
    monkeypatch.setenv("EDGE_RUNTIME_STATE_DIR", str(tmp_path / "env"))
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "systemd"))
    assert resolve_state_dir(configured) == tmp_path / "here"  # relative to the TOML
    assert resolve_state_dir(plain) == tmp_path / "env"
    monkeypatch.delenv("EDGE_RUNTIME_STATE_DIR")
    assert resolve_state_dir(plain) == tmp_path / "systemd"


def test_an_unwritable_state_dir_is_one_sentence(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match=r"not writable .*\[robot\] state_dir"):
        writable_state_dir(blocker / "state", "latching a safety stop")


def _robot(extra: str) -> str:
    return f"""
[robot]
period_s = 0.01
{extra}

[[joints]]
name = "a"
id = 1
min_rad = -1.0
max_rad = 1.0

[motors]
port = "/dev/ttyUSB0"
"""


def _toml(text: str) -> dict:
    from edge_runtime.toml_compat import tomllib

    return tomllib.loads(text)
