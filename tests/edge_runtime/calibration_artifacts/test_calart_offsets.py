"""`CalibratedBus` applies host-side zero offsets on a real driver talking to simulated servos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge_runtime.calibration_artifacts import (
    JOINTS,
    CalibratedBus,
    Device,
    build_document,
    require_joint_calibration,
    write_document,
)
from edge_runtime.errors import CalibrationError
from firmware_bridge.dynamixel import DynamixelBus
from firmware_bridge.sim.plant import FirstOrderPlant
from firmware_bridge.sim.servo_device import SimServoChain

OFFSETS = [0.25, -0.4]


def _calibration(root: Path, ids: tuple[int, ...] = (1, 2)) -> Path:
    data = {
        "offsets_applied": "host",
        "joints": [
            {"id": i, "zero_offset_rad": o, "min_rad": -1.0, "max_rad": 1.0}
            for i, o in zip(ids, OFFSETS)
        ],
    }
    write_document(
        root / JOINTS.filename, build_document(JOINTS.name, 1, Device(motor_ids=ids), {}, data)
    )
    return root


def test_cal_calibrated_bus_reads_and_writes_in_the_calibrated_frame(tmp_path: Path) -> None:
    joints = require_joint_calibration(_calibration(tmp_path), [1, 2])
    plant = FirstOrderPlant(2, time_constant_s=0.02, initial_rad=np.array(OFFSETS))
    with SimServoChain([1, 2], plant=plant) as chain:
        # 1 s watchdog: on this shared VM a starved moment between enable and the goal write
        # could trip the 100 ms default and the servos would rightly refuse the goal. 50 ms
        # reply allowance: the simulated servos answer from this busy test process.
        inner = DynamixelBus(chain.port, [1, 2], watchdog_ms=1000, latency_s=0.05)
        bus = CalibratedBus(inner, joints)
        with bus:
            np.testing.assert_allclose(bus.read_state().positions_rad, [0.0, 0.0], atol=2e-3)
            bus.enable()
            bus.write_goal(np.array([0.1, 0.1]))
            bus.read_state()  # a round trip: the chain has handled the goal written before it
            # What reached the servos over the wire is the raw goal: calibrated + offset.
            np.testing.assert_allclose(plant.goal, [0.35, -0.3], atol=2e-3)
        assert not any(s.torque_on for s in chain.servos)


def test_cal_calibrated_bus_refuses_other_motors(tmp_path: Path) -> None:
    joints = require_joint_calibration(_calibration(tmp_path), [1, 2])
    with (
        SimServoChain([1, 3]) as chain,
        DynamixelBus(chain.port, [1, 3]) as inner,
        pytest.raises(CalibrationError, match=r"motors \[1, 2\] but the bus has \[1, 3\]"),
    ):
        CalibratedBus(inner, joints)
