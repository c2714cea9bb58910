"""DynamixelBus against the simulated chain over a real pty: the MotorBus contract."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pytest

from firmware_bridge.dynamixel import DynamixelBus, ServoClient, ServoRefusedError
from firmware_bridge.errors import MotorBusError, MotorNotFoundError, PortNotFoundError
from firmware_bridge.sim.servo_device import SimServoChain

# This machine is shared and loaded: give replies from the in-process chain time to arrive
# where a test asserts that every read succeeds (the default suits a real U2D2).
PATIENT = 0.05


@pytest.fixture
def chain() -> Iterator[SimServoChain]:
    with SimServoChain([1, 2, 3]) as device:
        yield device


def test_read_write_enable_disable(chain: SimServoChain) -> None:
    with DynamixelBus(chain.port, [1, 2, 3], latency_s=PATIENT) as bus:
        state = bus.read_state()
        assert state.ok
        np.testing.assert_allclose(state.positions_rad, 0.0, atol=1e-3)
        bus.enable()
        assert all(s.torque_on for s in chain.servos)
        assert all(s.table[98] == 5 for s in chain.servos)  # 100 ms watchdog armed
        goal = np.array([0.3, -0.2, 0.1])
        for _ in range(200):
            bus.write_goal(goal)
            state = bus.read_state()
            if np.allclose(state.positions_rad, goal, atol=2e-3):
                break
            time.sleep(0.005)
        np.testing.assert_allclose(state.positions_rad, goal, atol=2e-3)
        assert bus.using_fast_sync_read
    assert not any(s.torque_on for s in chain.servos)  # close() turned torque off


def test_write_goal_validates_shape_and_finiteness(chain: SimServoChain) -> None:
    with DynamixelBus(chain.port, [1, 2, 3]) as bus:
        with pytest.raises(ValueError, match="3 positions"):
            bus.write_goal(np.zeros(2))
        with pytest.raises(ValueError, match="non-finite"):
            bus.write_goal(np.array([0.0, np.nan, 0.0]))


def test_missing_servo_is_reported_not_fatal(chain: SimServoChain) -> None:
    with pytest.raises(MotorNotFoundError, match=r"servos \[4\] did not answer"):
        DynamixelBus(chain.port, [1, 2, 3, 4])
    bus = DynamixelBus(chain.port, [1, 2, 3, 4], verify=False, latency_s=PATIENT)
    try:
        for _ in range(4):
            state = bus.read_state()
        assert set(state.errors) == {4}
        assert np.isnan(state.positions_rad[3])
        assert np.all(np.isfinite(state.positions_rad[:3]))
        assert not bus.using_fast_sync_read  # gave up on fast reads after repeated failures
        with pytest.raises(MotorBusError, match=r"torque off failed on servos \[4\]"):
            bus.disable()
        assert not any(s.torque_on for s in chain.servos)  # the others were still turned off
    finally:
        bus.link.close()


def test_falls_back_to_sync_read_on_old_firmware() -> None:
    with (
        SimServoChain([5, 6], fast_sync_read=False) as chain,
        DynamixelBus(chain.port, [5, 6], latency_s=PATIENT) as bus,
    ):
        states = [bus.read_state() for _ in range(5)]
        assert all(s.ok for s in states)  # fallback within the same call, never a gap
        assert not bus.using_fast_sync_read


def test_nonexistent_port_is_one_sentence(tmp_path) -> None:
    with pytest.raises(PortNotFoundError, match="does not exist") as info:
        DynamixelBus(str(tmp_path / "ttyUSB9"), [1])
    assert str(info.value).count("\n") == 0


def test_wrong_baud_is_a_silent_bus(chain: SimServoChain) -> None:
    with pytest.raises(MotorNotFoundError, match=r"no servo answered .* at 57600 baud"):
        DynamixelBus(chain.port, [1, 2, 3], baud=57_600)


def test_watchdog_stops_servos_when_host_goes_quiet(chain: SimServoChain) -> None:
    with DynamixelBus(chain.port, [1, 2, 3], watchdog_ms=40) as bus:
        bus.enable()
        deadline = time.monotonic() + 2.0
        while chain.stats.watchdog_trips < 3 and time.monotonic() < deadline:
            time.sleep(0.02)  # silence: nothing feeds the watchdogs
        assert chain.stats.watchdog_trips == 3
        client = ServoClient(bus.link)
        assert client.read_item(1, "bus_watchdog") == -1
        with pytest.raises(ServoRefusedError, match="watchdog has tripped"):
            client.write_item(1, "goal_position", 3000)
        bus.enable()  # clears the latch and re-arms
        assert client.read_item(1, "bus_watchdog") == 2


def test_eeprom_write_with_torque_on_is_refused(chain: SimServoChain) -> None:
    with DynamixelBus(chain.port, [1, 2, 3]) as bus:
        client = ServoClient(bus.link)
        client.write_item(2, "torque_enable", 1)
        with pytest.raises(ServoRefusedError, match="operating_mode is in EEPROM"):
            client.write_item(2, "operating_mode", 1)
        client.write_item(2, "torque_enable", 0)
        client.write_item(2, "operating_mode", 4)
        assert client.read_item(2, "operating_mode") == 4
        with pytest.raises(ServoRefusedError, match="data range"):
            client.write_item(2, "operating_mode", 2)
        assert client.scan() == {1: (1020, 46), 2: (1020, 46), 3: (1020, 46)}


def test_reg_write_action_bulk_and_reboot(chain: SimServoChain) -> None:
    from firmware_bridge.dynamixel import instructions as ins

    with DynamixelBus(chain.port, [1, 2, 3], latency_s=PATIENT) as bus:
        link, client = bus.link, ServoClient(bus.link)
        assert link.exchange(ins.reg_write(2, 65, b"\x01"), 1, 11)[0].error == 0
        assert client.read_item(2, "led") == 0  # registered, not applied
        assert client.read_item(2, "registered_instruction") == 1
        link.exchange(ins.action(), 0, 0)
        assert client.read_item(2, "led") == 1
        link.exchange(
            ins.bulk_write([(1, 116, (1000).to_bytes(4, "little")), (3, 65, b"\x01")]), 0, 0
        )
        assert client.read_item(1, "goal_position") == 1000
        assert client.read_item(3, "led") == 1
        answers = link.exchange(ins.bulk_read([(1, 116, 4), (3, 7, 1)]), 2, 32)
        assert [(p.id, p.params) for p in answers] == [
            (1, (1000).to_bytes(4, "little")),
            (3, b"\x03"),
        ]
        client.write_item(3, "torque_enable", 1)
        client.reboot(3)
        assert client.read_item(3, "torque_enable") == 0
        assert client.read_item(3, "led") == 0
