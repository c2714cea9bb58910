"""McuBus against the reference MCU simulator over a real pty: handshake, watchdog, e-stop,
sequence echo accounting, corruption, clock offset, unplug and reconnect."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.errors import MotorBusError, MotorTimeoutError, PortNotFoundError
from firmware_bridge.mcu.bus import McuBus
from firmware_bridge.mcu.errors import (
    McuConfigError,
    McuFaultError,
    McuIncompatibleError,
    McuLinkError,
)
from firmware_bridge.mcu.messages import Fault, McuState
from firmware_bridge.sim.mcu_device import McuFaults, SimulatedMcu
from firmware_bridge.sim.plant import FirstOrderPlant

PERIOD_S = 0.1  # watchdog 4 x 100 ms: a loaded CI machine never trips it by accident
IDS = [1, 2, 3]


def wait_for(condition: Callable[[], bool], what: str, limit_s: float = 5.0) -> None:
    """Poll a condition; the limit only guards against a hang, it is not a timing assertion."""
    end = time.monotonic() + limit_s
    while not condition():
        if time.monotonic() > end:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.005)


@pytest.fixture
def make_sim(tmp_path: Path) -> Iterator[Callable[..., SimulatedMcu]]:
    started: list[SimulatedMcu] = []

    def make(**kwargs) -> SimulatedMcu:
        kwargs.setdefault("motors", len(IDS))
        kwargs.setdefault("period_s", PERIOD_S)
        dev = SimulatedMcu(tmp_path / f"mcu{len(started)}", **kwargs).start()
        started.append(dev)
        return dev

    yield make
    for dev in started:
        dev.stop()


@pytest.fixture
def sim(make_sim) -> SimulatedMcu:
    return make_sim(seed=7)


@pytest.fixture
def bus(sim: SimulatedMcu) -> Iterator[McuBus]:
    with McuBus(sim.port, IDS, period_s=PERIOD_S, reply_timeout_s=0.5) as b:
        yield b


def test_mcu_bus_hello_reports_the_device(bus: McuBus) -> None:
    assert bus.info.motors == 3
    assert bus.info.watchdog_periods == 4
    assert bus.info.firmware == "edge-runtime sim-mcu"


def test_mcu_bus_tracks_goals_and_echoes_every_command(bus: McuBus, sim: SimulatedMcu) -> None:
    bus.enable()
    goal = np.array([0.3, -0.2, 0.1])
    for _ in range(20):
        bus.write_goal(goal)
        state = bus.read_state()
    assert state.ok
    assert state.positions_rad.shape == (3,)
    wait_for(lambda: bus.stats.commands_acked == 20, "20 acks")
    stats = bus.stats
    assert stats.commands_lost == 0
    assert stats.rtt_us_p50 > 0
    np.testing.assert_allclose(sim.goal, goal, atol=1e-6)


def test_mcu_bus_counts_lost_commands_exactly(make_sim) -> None:
    dev = make_sim(seed=3, faults=McuFaults(drop_rx_rate=0.25))
    with McuBus(dev.port, IDS, period_s=PERIOD_S, reply_timeout_s=0.5) as bus:
        _enable_through_loss(bus)
        for i in range(120):
            bus.write_goal(np.full(3, i * 1e-3))
        sent = bus.stats.frames_sent
        wait_for(lambda: dev.counters["rx_frames"] + dev.counters["rx_dropped"] >= sent, "rx")
        dev.faults.drop_rx_rate = 0.0
        bus.write_goal(np.zeros(3))  # its echo settles every command sent before it
        wait_for(lambda: bus.stats.commands_acked + bus.stats.commands_lost == 121, "settled")
        stats = bus.stats
    assert stats.commands_acked == dev.counters["applied"]
    assert 0 < stats.commands_lost == 121 - dev.counters["applied"]
    assert 0 < stats.loss_ratio < 1


def _enable_through_loss(bus: McuBus) -> None:
    for _ in range(20):
        try:
            bus.enable()
            return
        except MotorTimeoutError:
            continue
    pytest.fail("could not enable through a lossy link")


def test_mcu_bus_watchdog_latches_until_cleared(bus: McuBus, sim: SimulatedMcu) -> None:
    bus.enable()
    bus.write_goal(np.zeros(3))
    # The loop "hangs": no more commands. The MCU must stop the motors and latch.
    wait_for(lambda: sim.state == McuState.FAULT, "the watchdog to latch")
    assert sim.fault == Fault.WATCHDOG
    assert not np.any(sim.plant.torque_on)
    state = bus.read_state()
    assert not state.ok
    assert "watchdog" in state.errors[1]
    with pytest.raises(McuFaultError, match="clear_fault"):
        bus.write_goal(np.zeros(3))
    with pytest.raises(McuFaultError):
        bus.enable()  # still latched: re-arming needs an explicit clear
    bus.clear_fault()
    assert sim.state == McuState.IDLE
    bus.enable()
    bus.write_goal(np.zeros(3))
    assert bus.read_state().ok


def test_mcu_bus_heartbeat_keeps_the_watchdog_fed(bus: McuBus, sim: SimulatedMcu) -> None:
    bus.enable()
    end = time.monotonic() + 2 * sim.watchdog_s
    while time.monotonic() < end:
        bus.heartbeat()
        time.sleep(PERIOD_S / 4)
    assert sim.state == McuState.ARMED


def test_mcu_bus_estop_is_repeatable_and_latched(bus: McuBus, sim: SimulatedMcu) -> None:
    bus.enable()
    bus.write_goal(np.full(3, 0.5))
    assert bus.estop()
    assert bus.estop()  # again: idempotent, still confirmed
    assert sim.counters["estops"] == 6  # every call sends three copies in one write
    assert (sim.state, sim.fault) == (McuState.FAULT, Fault.ESTOP)
    assert not np.any(sim.plant.torque_on)
    with pytest.raises(McuFaultError, match="estop"):
        bus.write_goal(np.zeros(3))


def test_mcu_bus_corrupted_replies_never_deliver_a_wrong_value(make_sim) -> None:
    start = np.array([0.25, -1.5, 3.0])
    dev = make_sim(
        seed=11,
        plant=FirstOrderPlant(3, initial_rad=start),
        faults=McuFaults(corrupt_byte_rate=2e-3, drop_tx_rate=0.02),
    )
    good = timeouts = 0
    with McuBus(dev.port, IDS, period_s=PERIOD_S, reply_timeout_s=0.02) as bus:
        for _ in range(250):  # torque off: the joints stay exactly where they started
            try:
                state = bus.read_state()
            except MotorTimeoutError:
                timeouts += 1
                continue
            good += 1
            np.testing.assert_array_equal(state.positions_rad, start.astype(np.float32))
        stats = bus.stats
    assert good > 0
    assert timeouts > 0
    assert stats.bad_frames > 0
    assert stats.telemetry_timeouts == timeouts


def test_mcu_bus_clock_offset_is_within_half_the_round_trip(make_sim) -> None:
    dev = make_sim(clock_start_us=2**32 - 100_000)  # the 32-bit MCU clock wraps mid-test
    with McuBus(dev.port, IDS, period_s=PERIOD_S, reply_timeout_s=0.5) as bus:
        for _ in range(40):
            before = time.monotonic_ns()
            state = bus.read_state()
            after = time.monotonic_ns()
            time.sleep(0.005)
        assert dev.mcu_time_us() < 2**31  # wrapped
        offset, bound = bus.clock.offset_ns, bus.clock.uncertainty_ns
        assert offset is not None
        assert bound is not None
        assert abs(offset - dev.host_ns_at_mcu_zero) <= bound + 1000  # + 1 µs quantisation
        assert before - bound - 1000 <= state.stamp_ns <= after + bound + 1000


def test_mcu_bus_unplug_errors_at_once_and_reconnects(bus: McuBus, sim: SimulatedMcu) -> None:
    bus.enable()
    bus.write_goal(np.zeros(3))
    sim.unplug()
    with pytest.raises(McuLinkError, match="down"):
        bus.read_state()
    with pytest.raises(McuLinkError):
        bus.write_goal(np.zeros(3))
    wait_for(lambda: sim.state == McuState.FAULT, "the watchdog to latch while unplugged")
    sim.replug()

    def reconnected() -> bool:
        try:
            bus.read_state()
        except McuLinkError:
            return False
        return True

    wait_for(reconnected, "the bus to reconnect")
    assert bus.stats.reconnects == 1
    with pytest.raises(McuFaultError):
        bus.write_goal(np.zeros(3))  # the MCU kept its latch across the unplug
    bus.clear_fault()
    bus.enable()
    bus.write_goal(np.zeros(3))
    assert bus.read_state().ok


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"major": 2}, McuIncompatibleError, "refusing to arm"),
        ({"schema": 0x1234}, McuIncompatibleError, "schema hash"),
        ({"motors": 4}, McuConfigError, "drives 4 motors"),
        ({"period_s": 0.01}, McuConfigError, "longer than"),
        ({"faults": McuFaults(silent=True)}, MotorTimeoutError, "no MCU answered HELLO"),
    ],
)
def test_mcu_bus_refuses_mismatched_devices(make_sim, kwargs, error, match) -> None:
    dev = make_sim(**kwargs)
    with pytest.raises(error, match=match):
        McuBus(dev.port, IDS, period_s=PERIOD_S, hello_timeout_s=0.15)


def test_mcu_bus_missing_port_is_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(PortNotFoundError, match="cannot open the MCU port"):
        McuBus(str(tmp_path / "nothing"), IDS)


def test_mcu_bus_close_turns_torque_off_and_is_idempotent(sim: SimulatedMcu) -> None:
    bus = McuBus(sim.port, IDS, period_s=PERIOD_S, reply_timeout_s=0.5)
    bus.enable()
    bus.close()
    bus.close()
    assert sim.state == McuState.IDLE
    assert not np.any(sim.plant.torque_on)
    with pytest.raises(MotorBusError):
        bus.read_state()


def test_mcu_bus_motorbus_hooks_latch_and_clear_across_runs(sim: SimulatedMcu) -> None:
    """`emergency_stop` latches the MCU; the next run's `clear_device_stop` lets it arm."""
    with McuBus(sim.port, IDS, period_s=PERIOD_S) as first_run:
        first_run.enable()
        assert first_run.emergency_stop()
    assert sim.status()["fault"] == "ESTOP"  # survives the close (DISABLE keeps the latch)
    with McuBus(sim.port, IDS, period_s=PERIOD_S) as next_run:
        assert next_run.clear_device_stop() == "estop"
        assert next_run.clear_device_stop() == ""  # nothing latched any more
        next_run.enable()
        assert sim.state == McuState.ARMED
    assert sim.status()["recent"][-3:] == ["CLEAR", "ENABLE", "DISABLE"]
