"""A real safety stop through `edgerun run` on the simulated robot, under the unit's restart rules.

The camera delivers one frame a second, so every plan goes stale long before the next frame and
the safety filter stops the arm: a real stop, from the real filter. Its exit code goes through
systemd's restart rules for the shipped unit (no restart); the next start is refused with the
same code while the stop is latched; `ack` clears it and the robot arms (and stops) again.
A datagram socket stands in for systemd's NOTIFY_SOCKET, so READY/WATCHDOG are checked too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from notify_socket import NotifySocket
from runtime_bundles import frozen_camera_robot
from systemd_rules import parse_unit, restarts
from test_field_unit import UNIT_FILE

from edge_runtime.cli.main import main
from edge_runtime.errors import EXIT_LATCHED


def _frozen_camera_robot(tmp_path: Path) -> Path:
    return frozen_camera_robot(
        tmp_path,
        ('name = "sim-arm"', 'name = "sim-arm"\nstate_dir = "state"'),
        ("hold_timeout_s = 0.5", "hold_timeout_s = 0.2\nfirst_plan_timeout_s = 2.0"),
    )


@pytest.mark.slow
def test_a_safety_stop_stays_stopped(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    systemd: NotifySocket,
) -> None:
    unit = parse_unit(UNIT_FILE)
    config = str(_frozen_camera_robot(tmp_path))
    monkeypatch.setenv("NOTIFY_SOCKET", systemd.path)
    monkeypatch.setenv("WATCHDOG_USEC", "2")  # ping whenever the tick counter has advanced
    run = ["run", "--config", config, "--out", str(tmp_path / "out")]

    code = main(run)
    assert code == EXIT_LATCHED, capsys.readouterr().err
    assert not restarts(unit, exit_code=code)
    stop = json.loads((tmp_path / "state" / "safety-stop.json").read_text())
    assert stop["reason"].startswith("safety stop: ")
    assert stop["report"] == str(tmp_path / "out" / "run-report.json")
    messages = [line for m in systemd.take() for line in m.splitlines()]
    assert "READY=1" in messages
    assert "WATCHDOG=1" in messages[messages.index("READY=1") :]
    assert "WATCHDOG=1" not in messages[: messages.index("READY=1")]  # none before arming
    capsys.readouterr()

    # Whatever restarts it (systemctl restart, a reboot, a person): refused, the same code.
    assert main(run) == EXIT_LATCHED
    err = capsys.readouterr().err
    assert "edgerun status" in err
    assert "edgerun ack" in err
    assert not restarts(unit, exit_code=EXIT_LATCHED)
    messages = systemd.take()
    assert any(m.startswith("STATUS=refused") for m in messages)
    assert "READY=1" not in messages

    assert main(["status", "--config", config]) == EXIT_LATCHED
    assert stop["reason"] in capsys.readouterr().out
    assert main(["ack", "--config", config, "--by", "Ana", "--why", "camera replaced"]) == 0
    assert main(["status", "--config", config]) == 0
    capsys.readouterr()

    assert main(run) == EXIT_LATCHED  # armed again, and the frozen camera stopped it again
    assert any("READY=1" in m for m in systemd.take())
