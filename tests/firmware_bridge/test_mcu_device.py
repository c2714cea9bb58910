"""The reference MCU seen from raw frames over pyserial: what any host (or a firmware author's
test rig) can rely on, independent of McuBus."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import serial

from firmware_bridge.mcu import frame, messages
from firmware_bridge.mcu.handshake import hello_body
from firmware_bridge.mcu.messages import Fault, McuState, MsgType, Status
from firmware_bridge.sim.mcu_device import SimulatedMcu


class RawHost:
    """A minimal host: writes frames, reads decoded replies."""

    def __init__(self, port: str) -> None:
        self.port = serial.Serial(port, 1_000_000, timeout=0.05)
        self.reader = frame.FrameReader()
        self.seq = 100

    def frame(self, msg_type: int, body: Any = None, version: int = 1) -> bytes:
        self.seq += 1
        payload = messages.msgpack.packb(body if body is not None else {})
        return frame.encode(frame.Frame(version, msg_type, self.seq, 0, payload))

    def send(self, *frames: bytes) -> None:
        self.port.write(b"".join(frames))

    def replies(self, count: int, limit_s: float = 3.0) -> list[tuple[int, dict]]:
        got: list[tuple[int, dict]] = []
        end = time.monotonic() + limit_s
        while len(got) < count and time.monotonic() < end:
            for item in self.reader.feed(self.port.read(self.port.in_waiting or 1)):
                assert isinstance(item, frame.Frame), item
                got.append((item.msg_type, messages.decode(item.msg_type, item.payload)))
        assert len(got) == count, got
        return got

    def ask(self, msg_type: int, body: Any = None, version: int = 1) -> tuple[int, dict]:
        self.send(self.frame(msg_type, body, version))
        return self.replies(1)[0]


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimulatedMcu]:
    with SimulatedMcu(tmp_path / "mcu", motors=2, period_s=0.2) as dev:
        yield dev


@pytest.fixture
def host(sim: SimulatedMcu) -> Iterator[RawHost]:
    h = RawHost(sim.port)
    yield h
    h.port.close()


def test_mcu_device_refuses_enable_after_a_mismatched_hello(host: RawHost, sim) -> None:
    assert host.ask(MsgType.ENABLE)[1]["code"] == Status.INCOMPATIBLE  # no HELLO yet
    bad = {**hello_body(), "schema": messages.SCHEMA_HASH ^ 1}
    kind, ack = host.ask(MsgType.HELLO, bad)
    assert kind == MsgType.HELLO_ACK
    assert ack["schema"] == messages.SCHEMA_HASH
    assert host.ask(MsgType.ENABLE)[1]["code"] == Status.INCOMPATIBLE
    host.ask(MsgType.HELLO, {**hello_body(), "major": 9})
    assert host.ask(MsgType.ENABLE)[1]["code"] == Status.INCOMPATIBLE
    host.ask(MsgType.HELLO, hello_body())
    assert host.ask(MsgType.ENABLE)[1]["code"] == Status.OK
    assert sim.state == McuState.ARMED


def test_mcu_device_acts_on_estop_before_frames_of_the_same_read(host: RawHost, sim) -> None:
    host.ask(MsgType.HELLO, hello_body())
    host.ask(MsgType.ENABLE)
    command = host.frame(MsgType.COMMAND, {"goal": [0.1, 0.2]})
    estop = host.frame(MsgType.ESTOP)
    host.send(command + estop)
    (_, a), (_, b) = host.replies(2)
    assert (a["echo"], a["code"]) == (host.seq, Status.OK)  # the e-stop, answered first
    assert b["code"] == Status.FAULT_LATCHED  # the command behind it is refused
    assert (sim.state, sim.fault) == (McuState.FAULT, Fault.ESTOP)
    assert host.ask(MsgType.ESTOP)[1]["code"] == Status.OK  # repeatable
    assert host.ask(MsgType.ENABLE)[1]["code"] == Status.FAULT_LATCHED
    assert host.ask(MsgType.CLEAR)[1]["code"] == Status.OK
    assert host.ask(MsgType.ENABLE)[1]["code"] == Status.OK


@pytest.mark.parametrize(
    ("msg_type", "body", "version", "code"),
    [
        (MsgType.COMMAND, {"goal": [1.0]}, 1, Status.BAD_PAYLOAD),  # wrong motor count
        (MsgType.COMMAND, {"goal": [float("nan"), 0.0]}, 1, Status.BAD_PAYLOAD),
        (MsgType.COMMAND, {"goal": "up"}, 1, Status.BAD_PAYLOAD),
        (MsgType.COMMAND, {"goal": [0.0, 0.0]}, 2, Status.INCOMPATIBLE),  # header version
        (0x42, {}, 1, Status.UNKNOWN_TYPE),
        (MsgType.TELEMETRY, {}, 1, Status.BAD_PAYLOAD),  # an MCU->host type, malformed
    ],
)
def test_mcu_device_answers_bad_frames_with_a_reason(host, sim, msg_type, body, version, code):
    host.ask(MsgType.HELLO, hello_body())
    host.ask(MsgType.ENABLE)
    kind, ack = host.ask(msg_type, body, version)
    assert kind == MsgType.ACK
    assert (ack["echo"], ack["code"]) == (host.seq, code)
    assert sim.counters["applied"] == 0


def test_mcu_device_survives_garbage_and_answers_the_next_frame(host: RawHost, sim) -> None:
    host.send(bytes(range(1, 256)) * 3 + b"\x00\x07\x00" + b"\xff" * 50)
    host.send(b"\x00" + host.frame(MsgType.HELLO, hello_body()))  # a lone 0x00 ends the noise
    assert host.replies(1)[0][0] == MsgType.HELLO_ACK
    assert sim.counters["rx_bad"] == 3


def test_mcu_device_sends_an_unsolicited_fault_when_the_watchdog_fires(host: RawHost, sim):
    host.ask(MsgType.HELLO, hello_body())
    host.ask(MsgType.ENABLE)
    kind, body = host.replies(1)[0]  # nothing more is sent: the watchdog fires
    assert kind == MsgType.FAULT
    assert (body["state"], body["fault"]) == (McuState.FAULT, Fault.WATCHDOG)
    kind, telemetry = host.ask(MsgType.STATE_REQ)
    assert kind == MsgType.TELEMETRY
    assert telemetry["state"] == McuState.FAULT
    assert len(telemetry["pos"]) == 2
