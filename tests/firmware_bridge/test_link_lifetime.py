"""Both serial links are context managers: `with` opens, the block's end closes, even on errors,
and a second close is harmless."""

from __future__ import annotations

from pathlib import Path

import pytest

from firmware_bridge.dynamixel import DynamixelLink, ServoClient
from firmware_bridge.errors import MotorBusError
from firmware_bridge.mcu.clock_sync import ClockSync
from firmware_bridge.mcu.errors import McuLinkError
from firmware_bridge.mcu.link import McuLink
from firmware_bridge.mcu.messages import MsgType
from firmware_bridge.sim.mcu_device import SimulatedMcu
from firmware_bridge.sim.servo_device import SimServoChain


def test_dynamixel_link_with_opens_and_closes() -> None:
    with SimServoChain([1]) as chain:
        with DynamixelLink(chain.port) as link:
            assert link.is_open
            assert ServoClient(link).ping(1) is not None
        assert not link.is_open
        link.close()  # idempotent: a `finally` elsewhere may close it again
        with pytest.raises(MotorBusError, match="is closed"):
            link.send(b"\xff")


def _fail_inside(link: DynamixelLink) -> None:
    with link:  # already open: `with` keeps that port rather than opening a second one
        assert link.is_open
        raise RuntimeError("inside the block")


def test_dynamixel_link_closes_when_the_block_raises() -> None:
    with SimServoChain([1]) as chain:
        link = DynamixelLink(chain.port)
        link.open()
        with pytest.raises(RuntimeError, match="inside the block"):
            _fail_inside(link)
        assert not link.is_open


def test_mcu_link_with_closes(tmp_path: Path) -> None:
    with SimulatedMcu(tmp_path / "mcu", motors=2) as device:
        with McuLink(device.port, 1_000_000, ClockSync(), lambda reply, sent_ns: None) as link:
            assert link.alive
            (seq,) = link.send([(MsgType.STATE_REQ, {})], wait=True)
            assert link.wait_reply(seq, timeout_s=2.0) is not None
        assert not link.alive
        link.close()
        with pytest.raises(McuLinkError, match="is down"):
            link.send([(MsgType.STATE_REQ, {})])
