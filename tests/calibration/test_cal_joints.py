"""Joint calibration on a simulated servo chain behind the real Dynamixel driver (pty)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from calibration.joints import JointReadings, compute_limits, read_poses_file
from calibration.motion import Mover
from edge_runtime.calibration_artifacts import require_joint_calibration
from edge_runtime.cli.main import main
from edge_runtime.errors import CalibrationError
from firmware_bridge.dynamixel import DynamixelBus
from firmware_bridge.sim.plant import FirstOrderPlant
from firmware_bridge.sim.servo_device import SimServoChain

IDS = [1, 2, 3]
SIM_LATENCY_S = 0.05  # reply allowance for servos simulated in this process
# Where the servos read when the joints sit on their zero marks (a robot assembled off-centre).
ZERO_RAW = np.array([0.12, -0.30, 0.05])


@pytest.fixture
def chain() -> Iterator[SimServoChain]:
    plant = FirstOrderPlant(3, time_constant_s=0.02, max_velocity_rad_s=8.0, initial_rad=ZERO_RAW)
    with SimServoChain(IDS, plant=plant) as device:
        yield device


def _config(tmp_path: Path, port: str, ids: list[int] = IDS) -> Path:
    joints = "".join(
        f'[[joints]]\nname = "j{i}"\nid = {i}\nmin_rad = -3.0\nmax_rad = 3.0\n\n' for i in ids
    )
    text = (
        f'[robot]\nname = "bench-arm"\nperiod_s = 0.01\n\n{joints}'
        f'[camera]\ntype = "realsense"\n\n[motors]\ntype = "dynamixel"\nport = "{port}"\n'
    )
    path = tmp_path / "robot.toml"
    path.write_text(text)
    return path


def _poses(tmp_path: Path, ids: list[int] = IDS, zero: bool = False) -> Path:
    lines = [f"motor_ids = {ids}", "min_rad = [-1.5, -1.8, -0.9]", "max_rad = [1.6, 1.2, 2.0]"]
    if zero:
        lines.append(f"zero_rad = {ZERO_RAW.tolist()}")
    path = tmp_path / "poses.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_cal_scripted_joints_read_zero_from_the_bus_and_verify(
    chain: SimServoChain, tmp_path: Path
) -> None:
    out = tmp_path / "cal"
    args = ["calibrate", "joints", "--config", str(_config(tmp_path, str(chain.port)))]
    code = main([*args, "--out", str(out), "--non-interactive", "--poses", str(_poses(tmp_path))])
    assert code == 0
    joints = require_joint_calibration(out, IDS)
    np.testing.assert_allclose(joints.host_offsets_rad(), ZERO_RAW, atol=2e-3)
    low, high = joints.limits_rad()
    np.testing.assert_allclose(low, np.array([-1.5, -1.8, -0.9]) - ZERO_RAW + 0.05, atol=2e-3)
    np.testing.assert_allclose(high, np.array([1.6, 1.2, 2.0]) - ZERO_RAW - 0.05, atol=2e-3)
    quality = json.loads((out / "joints.json").read_text())["quality"]
    assert quality["verified"] is True
    assert quality["verify_max_error_rad"] <= 0.011
    assert not any(s.torque_on for s in chain.servos)  # the bus was closed: torque off


def test_cal_poses_file_for_other_motors_exits_2_and_writes_nothing(
    chain: SimServoChain, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cal"
    config = _config(tmp_path, str(chain.port))
    poses = _poses(tmp_path, ids=[1, 2, 4], zero=True)
    code = main(
        ["calibrate", "joints", "--config", str(config), "--out", str(out),
         "--non-interactive", "--poses", str(poses), "--no-verify"]
    )  # fmt: skip
    assert code == 2
    assert "lists motors [1, 2, 4] but the robot has [1, 2, 3]" in capsys.readouterr().err
    assert not out.exists()


def test_cal_non_interactive_without_poses_is_refused(
    chain: SimServoChain, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, str(chain.port))
    code = main(["calibrate", "joints", "--config", str(config), "--out", str(tmp_path / "c"),
                 "--non-interactive"])  # fmt: skip
    assert code == 2
    assert "--poses FILE" in capsys.readouterr().err


def test_cal_mover_recovers_once_from_a_tripped_bus_watchdog(chain: SimServoChain) -> None:
    # A generous reply allowance: the simulated servos answer from this test process, which
    # a loaded machine may not schedule within the 3 ms a real adapter gets.
    with DynamixelBus(chain.port, IDS, latency_s=SIM_LATENCY_S) as bus:
        bus.enable()
        time.sleep(0.4)  # the host goes quiet: every servo's 100 ms watchdog trips
        reached = Mover(bus, max_velocity_rad_s=4.0).move_to(ZERO_RAW + 0.2)
        np.testing.assert_allclose(reached, ZERO_RAW + 0.2, atol=0.011)
        assert chain.stats.watchdog_trips >= len(IDS)


def test_cal_limits_reject_a_joint_that_was_not_swept_or_a_zero_outside_its_range() -> None:
    readings = JointReadings(
        [1, 2], np.array([0.0, 0.0]), np.array([-1.0, -0.05]), np.array([1.0, 0.05])
    )
    with pytest.raises(CalibrationError, match=r"motor 2 moved through only 0\.10 rad"):
        compute_limits(readings)
    readings = JointReadings([1], np.array([2.0]), np.array([-1.0]), np.array([1.0]))
    with pytest.raises(CalibrationError, match=r"zero mark .* outside its swept range"):
        compute_limits(readings)


def test_cal_poses_file_errors_name_the_key(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text("motor_ids = [1, 2]\nmin_rad = [0.0]\nmax_rad = [1.0, 2.0]\n")
    with pytest.raises(CalibrationError, match=r"min_rad .* must have 2 numbers"):
        read_poses_file(path)
    path.write_text("motor_ids = [1]\nmin_rad = [0.0]\nmax_rad = [1.0]\nmaxx = 1\n")
    with pytest.raises(CalibrationError, match="unknown key 'maxx'"):
        read_poses_file(path)
    path.write_text("motor_ids = [1\n")
    with pytest.raises(CalibrationError, match="is not valid TOML"):
        read_poses_file(path)
    with pytest.raises(CalibrationError, match=r"poses file .* does not exist; pass --poses"):
        read_poses_file(tmp_path / "missing.toml")


def test_cal_interactive_joints_sample_the_sweep_between_prompts(
    chain: SimServoChain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engineer's hands are the fake `input`: zero marks, then a sweep to both stops."""
    plant = chain.plant
    assert isinstance(plant, FirstOrderPlant)
    low = ZERO_RAW - np.array([1.0, 0.8, 0.5])
    high = ZERO_RAW + np.array([1.2, 0.9, 1.5])
    prompts: list[str] = []

    def hands(prompt: str = "") -> str:
        prompts.append(prompt)
        if "both of its stops" in prompt:
            for target in (low, high, ZERO_RAW):
                with plant._lock:
                    plant.position = target.copy()
                time.sleep(0.15)  # the recorder samples every 20 ms
        return ""

    monkeypatch.setattr("builtins.input", hands)
    out = tmp_path / "cal"
    config = _config(tmp_path, str(chain.port))
    assert main(["calibrate", "joints", "--config", str(config), "--out", str(out)]) == 0
    assert len(prompts) == 3  # zero marks, sweep, verify
    joints = require_joint_calibration(out, IDS)
    np.testing.assert_allclose(joints.host_offsets_rad(), ZERO_RAW, atol=2e-3)
    lower, upper = joints.limits_rad()
    np.testing.assert_allclose(lower, low - ZERO_RAW + 0.05, atol=2e-3)
    np.testing.assert_allclose(upper, high - ZERO_RAW - 0.05, atol=2e-3)
