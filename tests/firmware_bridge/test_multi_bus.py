"""MultiBus: two simulated chains on two ptys as one bus; a fault on one stops both."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from servo_moves import drive_to

from firmware_bridge.dynamixel import DynamixelBus
from firmware_bridge.errors import MotorBusError
from firmware_bridge.multi_bus import MultiBus
from firmware_bridge.sim.servo_device import SimServoChain

PATIENT = 0.05


def test_two_buses_read_write_in_robot_order_and_a_fault_stops_both() -> None:
    with SimServoChain([1, 2]) as left, SimServoChain([11]) as right:
        buses = [
            ("left", DynamixelBus(left.port, [1, 2], latency_s=PATIENT)),
            ("right", DynamixelBus(right.port, [11], latency_s=PATIENT)),
        ]
        bus = MultiBus(buses, [1, 11, 2])  # the robot's order mixes the buses
        try:
            bus.enable()
            assert all(s.torque_on for s in left.servos + right.servos)
            goal = np.array([0.2, -0.4, 0.6])
            state = drive_to(bus, goal)
            np.testing.assert_allclose(state.positions_rad, goal, atol=2e-3)
            right.unplug()  # the right adapter is pulled out mid-run
            with pytest.raises(MotorBusError, match="bus 'right'"):
                bus.read_state()
            with pytest.raises(MotorBusError, match="bus 'right'"):
                bus.close()  # what the control process does on a fault
            assert not any(s.torque_on for s in left.servos)  # the healthy bus: torque off
        finally:
            bus.close()


def test_every_motor_on_exactly_one_bus() -> None:
    with (
        SimServoChain([1]) as chain,
        DynamixelBus(chain.port, [1]) as one,
        pytest.raises(ValueError, match="every motor must be on exactly one bus"),
    ):
        MultiBus([("a", one)], [1, 2])


def test_a_dynamixel_and_an_mcu_bus_drive_together(tmp_path: Path) -> None:
    """Dynamixel buses are read from the caller's thread (requests first, then answers); an
    MCU link cannot split its read, so beside one the MultiBus reads each bus on a thread."""
    from firmware_bridge.mcu.bus import McuBus
    from firmware_bridge.sim.mcu_device import SimulatedMcu

    with (
        SimServoChain([1, 2]) as chain,
        SimulatedMcu(tmp_path / "mcu", motors=1, period_s=0.1).start() as mcu,
    ):
        dxl = DynamixelBus(chain.port, [1, 2], latency_s=PATIENT)
        gripper = McuBus(mcu.port, [7], period_s=0.1, reply_timeout_s=0.5)
        assert dxl.splits_reads
        assert not gripper.splits_reads
        bus = MultiBus([("arm", dxl), ("gripper", gripper)], [1, 7, 2])
        try:
            bus.enable()
            goal = np.array([0.3, 0.1, -0.2])
            state = drive_to(bus, goal)
            np.testing.assert_allclose(state.positions_rad, goal, atol=5e-3)
        finally:
            bus.close()
        assert not any(s.torque_on for s in chain.servos)
