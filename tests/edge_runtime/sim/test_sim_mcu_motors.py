"""`run` with `[motors] type = "mcu"`, end to end on the simulated MCU board.

The arm's motors are the reference MCU (`SimulatedMcu`) on a pty, reached through `McuBus`:
the demo runs its full duration with the MCU watchdog fed by the loop's own commands (no
watchdog fault), and a safety stop latches the MCU e-stop *before* the torque-off (DISABLE),
as the MCU itself recorded the host's frames.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from runtime_bundles import frozen_camera_robot

from edge_runtime.cli.main import main
from edge_runtime.errors import EXIT_LATCHED


def test_demo_runs_on_the_simulated_mcu(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["demo", "--motors", "mcu", "--duration", "4", "--out", str(tmp_path)])
    assert code == 0, capsys.readouterr()
    report = json.loads((tmp_path / "run-report.json").read_text())
    assert report["ticks"] == 400
    assert report["stop_reason"] == "duration reached"
    mcu = report["sim_motors"]
    assert mcu["fault"] == "NONE"  # the loop fed the watchdog every period
    assert mcu["state"] == "IDLE"  # DISABLE at the end: torque off, nothing latched
    assert mcu["applied"] > 300  # one COMMAND per tick
    assert mcu["recent"][:2] == ["HELLO", "DISABLE"]  # the up-front check, torque still off
    assert mcu["recent"][-2:] == ["ENABLE", "DISABLE"]
    assert mcu["torque_on"] == [False] * 4


def _frozen_camera_mcu_robot(tmp_path: Path) -> Path:
    """The sim arm on the MCU with a camera that delivers one frame a second: plans go stale."""
    return frozen_camera_robot(
        tmp_path,
        ('type = "dynamixel"', 'type = "mcu"'),
        ("hold_timeout_s = 0.5", "hold_timeout_s = 0.2\nfirst_plan_timeout_s = 1.5"),
    )


@pytest.mark.slow
def test_a_safety_stop_latches_the_mcu_estop_before_torque_off(tmp_path: Path) -> None:
    config = _frozen_camera_mcu_robot(tmp_path)
    out = tmp_path / "out"
    assert main(["run", "--config", str(config), "--out", str(out)]) == EXIT_LATCHED
    report = json.loads((out / "run-report.json").read_text())
    assert report["stop_reason"].startswith("safety stop")
    mcu = report["sim_motors"]
    assert mcu["fault"] == "ESTOP"
    assert mcu["estops"] >= 1
    recent = mcu["recent"]
    assert recent.index("ESTOP") < len(recent) - 1 - recent[::-1].index("DISABLE")
    assert recent.index("ENABLE") < recent.index("ESTOP")
    assert mcu["torque_on"] == [False] * 4
