"""Commissioning procedures against simulated servos on a pty: results, and one-sentence refusals
before the port is even opened."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from firmware_bridge.dynamixel import commissioning as dxl
from firmware_bridge.dynamixel.bus import DynamixelConfigError
from firmware_bridge.errors import BridgeError, MotorTimeoutError
from firmware_bridge.sim.servo_device import SimServoChain

BAUD = 1_000_000


@pytest.fixture
def chain() -> Iterator[SimServoChain]:
    with SimServoChain([1, 2, 3]) as device:
        yield device


@pytest.mark.parametrize(
    ("text", "ids"), [("1-3", [1, 2, 3]), ("5, 1,3-4", [1, 3, 4, 5]), ("7", [7])]
)
def test_parse_ids(text: str, ids: list[int]) -> None:
    assert dxl.parse_ids(text) == ids


@pytest.mark.parametrize(
    ("text", "message"),
    [("1-x", "write them like 1-6"), ("250-253", "within 0..252"), ("", "got ''")],
)
def test_parse_ids_refuses(text: str, message: str) -> None:
    with pytest.raises(DynamixelConfigError, match=re.escape(message)):
        dxl.parse_ids(text)


def test_parse_baud() -> None:
    assert dxl.parse_baud("1_000_000") == dxl.parse_baud("1e6") == dxl.parse_baud(BAUD) == BAUD
    with pytest.raises(DynamixelConfigError, match="do not run at '12345' baud"):
        dxl.parse_baud("12345")


def test_scan_by_broadcast_and_by_id(chain: SimServoChain) -> None:
    found = list(dxl.scan(chain.port, [BAUD]))
    assert [(s.servo_id, s.model, s.firmware, s.baud) for s in found] == [
        (i, 1020, 46, BAUD) for i in (1, 2, 3)
    ]
    assert [s.servo_id for s in dxl.scan(chain.port, [BAUD], ids=[2, 5])] == [2]
    assert list(dxl.scan(chain.port, [57_600])) == []


def test_find_servos(chain: SimServoChain) -> None:
    assert dxl.find_servos(chain.port, BAUD) == [1, 2, 3]
    with pytest.raises(DynamixelConfigError, match="no servo answered"):
        dxl.find_servos(chain.port, 57_600)


def test_read_and_write_items_with_units(chain: SimServoChain) -> None:
    value = dxl.read_item(chain.port, BAUD, 3, "present-position")
    assert (value.item.name, value.raw, value.value_si) == ("present_position", 2048, 0.0)
    assert dxl.read_item(chain.port, BAUD, 3, "id").value_si is None
    written = dxl.write_item(chain.port, BAUD, 3, "goal_position", "0.5", si=True)
    assert written.raw == 2048 + 326
    assert chain.servo(3).table[116:120] == written.raw.to_bytes(4, "little")
    assert dxl.read_item(chain.port, BAUD, 3, "hardware_error_status").hardware_errors == ""


@pytest.mark.parametrize(
    ("name", "value", "si", "message"),
    [
        ("goal_position", "0.5", False, "pass --si"),
        ("goal_position", "half", False, "'half' is not a number"),
        ("id", "300", False, "id takes 0..255"),
        ("present_postion", "1", False, "did you mean present_position"),
    ],
)
def test_write_refuses_before_opening(tmp_path, name, value, si, message) -> None:
    missing_port = str(tmp_path / "ttyUSB9")  # never opened: the value is refused first
    with pytest.raises(BridgeError, match=re.escape(message)):
        dxl.write_item(missing_port, BAUD, 1, name, value, si=si)


def test_set_id_refuses_a_taken_id(chain: SimServoChain) -> None:
    assert dxl.set_id(chain.port, BAUD, 3, 7) is True
    assert sorted(s.id for s in chain.servos) == [1, 2, 7]
    with pytest.raises(DynamixelConfigError, match="id 1 is already taken"):
        dxl.set_id(chain.port, BAUD, 7, 1)
    with pytest.raises(DynamixelConfigError, match=r"within 0\.\.252"):
        dxl.set_id(chain.port, BAUD, 7, 253)


def test_set_baud_then_the_servo_answers_there(chain: SimServoChain) -> None:
    assert dxl.set_baud(chain.port, BAUD, 2, 57_600) is True
    assert [s.servo_id for s in dxl.scan(chain.port, [57_600])] == [2]
    with pytest.raises(DynamixelConfigError, match="do not run at"):
        dxl.set_baud(chain.port, BAUD, 1, 12345)


def test_reboot_turns_torque_off(chain: SimServoChain) -> None:
    dxl.write_item(chain.port, BAUD, 1, "torque_enable", 1)
    assert chain.servo(1).torque_on
    dxl.reboot(chain.port, BAUD, 1)
    assert not chain.servo(1).torque_on


def test_a_missing_servo_is_one_sentence(chain: SimServoChain) -> None:
    with pytest.raises(MotorTimeoutError, match="servo 9 did not answer"):
        dxl.read_item(chain.port, BAUD, 9, "id")
