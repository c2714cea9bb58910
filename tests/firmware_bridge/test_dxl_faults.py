"""Faults injected by the simulated chain, seen through DynamixelBus over a real pty."""

from __future__ import annotations

import time

import numpy as np
import pytest

from firmware_bridge.dynamixel import DynamixelBus
from firmware_bridge.dynamixel.control_table import AMPS_PER_TICK, RAD_PER_TICK, RAD_S_PER_TICK
from firmware_bridge.errors import MotorBusError
from firmware_bridge.sim.servo_device import SimServoChain
from firmware_bridge.sim.servo_faults import ServoFaults

IDS = list(range(1, 13))


class KnownPlant:
    """A plant whose every reading is known: each joint sits at its own distinct value.

    Values are exact multiples of the tick sizes, so a correct read reproduces them exactly
    and anything else is a wrong value delivered to the caller. Commands are recorded.
    """

    def __init__(self, count: int) -> None:
        k = np.arange(count)
        self.positions = (k * 37 - 200) * RAD_PER_TICK
        self.velocities = (k * 3 - 10) * RAD_S_PER_TICK
        self.currents = (k * 11 - 40) * AMPS_PER_TICK
        self.goals: list[np.ndarray] = []

    def command(self, goal_rad: np.ndarray, torque_on: np.ndarray) -> None:
        self.goals.append(np.array(goal_rad))

    def measure(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.positions, self.velocities, self.currents


@pytest.mark.slow
def test_corruption_and_drops_never_deliver_a_wrong_value() -> None:
    plant = KnownPlant(len(IDS))
    faults = ServoFaults(drop_rate=0.01, corrupt_rate=1e-3, corrupt_rx_rate=1e-3, seed=7)
    with SimServoChain(IDS, plant=plant, faults=faults) as chain:
        for servo in chain.servos:  # torque on (set on the device), so currents are reported
            servo.table[64] = 1
        bus = DynamixelBus(chain.port, IDS, latency_s=0.01, verify=False)
        written = {round(x, 9) for x in plant.positions}  # the initial goal := present
        valid = 0
        try:
            for cycle in range(1000):
                goal = (np.arange(len(IDS)) + cycle % 50) * 10 * RAD_PER_TICK
                written.update(round(x, 9) for x in goal)
                bus.write_goal(goal)
                state = bus.read_state()
                ok = np.isfinite(state.positions_rad)
                assert set(np.flatnonzero(~ok)) == {IDS.index(i) for i in state.errors}
                np.testing.assert_allclose(state.positions_rad[ok], plant.positions[ok], atol=1e-9)
                np.testing.assert_allclose(
                    state.velocities_rad_s[ok], plant.velocities[ok], atol=1e-9
                )
                np.testing.assert_allclose(state.currents_a[ok], plant.currents[ok], atol=1e-9)
                valid += int(ok.sum())
        finally:
            bus.link.close()
        counts = chain.faults.counts
    # Goals the device applied are only ever goals the host sent (corrupted writes rejected).
    applied = {round(x, 9) for g in plant.goals for x in g}
    assert applied <= written
    # Faults really happened, were rejected and counted on both sides.
    assert counts.corrupted_tx_bytes > 20
    assert counts.corrupted_rx_bytes > 5
    assert counts.dropped_replies > 5
    assert bus.stats.crc_errors > 20
    assert chain.stats.rx_crc_errors > 0
    assert valid > 0.9 * 1000 * len(IDS)


def test_unplug_surfaces_at_once_and_bus_reconnects(tmp_path) -> None:
    link = tmp_path / "ttyDXL"
    with SimServoChain([1, 2], link=link) as chain:
        bus = DynamixelBus(str(link), [1, 2], latency_s=0.05)
        try:
            bus.enable()
            assert bus.read_state().ok
            chain.unplug()
            with pytest.raises(MotorBusError, match="lost the serial adapter"):
                bus.read_state()
            with pytest.raises(MotorBusError, match="reconnects as soon as it is back"):
                bus.read_state()
            chain.replug()
            deadline = time.monotonic() + 5.0
            state = None
            while time.monotonic() < deadline:
                try:
                    state = bus.read_state()
                except MotorBusError:
                    time.sleep(0.01)
                    continue
                if state.ok:
                    break
            assert state is not None
            assert state.ok
            assert bus.stats.reconnects == 1
            assert bus.stats.io_errors == 1
        finally:
            bus.close()
    assert not any(s.torque_on for s in chain.servos)
