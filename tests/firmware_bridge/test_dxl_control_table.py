"""X-series control table: addresses, units and the errors a user sees for a bad item."""

from __future__ import annotations

import math

import pytest

from firmware_bridge.dynamixel.control_table import (
    ITEMS,
    STATE_ADDRESS,
    STATE_SIZE,
    UnknownItemError,
    describe_hardware_error,
    item,
)
from firmware_bridge.errors import BridgeError


def test_addresses_match_the_x_series_manual() -> None:
    expected = {
        "id": 7,
        "baud_rate": 8,
        "operating_mode": 11,
        "torque_enable": 64,
        "hardware_error_status": 70,
        "bus_watchdog": 98,
        "goal_position": 116,
        "present_current": 126,
        "present_velocity": 128,
        "present_position": 132,
    }
    assert {name: ITEMS[name].address for name in expected} == expected
    assert (STATE_ADDRESS, STATE_SIZE) == (126, 10)  # current + velocity + position, contiguous
    assert item("operating_mode").eeprom
    assert not item("torque_enable").eeprom


def test_units() -> None:
    position = item("present_position")
    assert position.to_si(2048) == 0.0
    assert math.isclose(position.to_si(2048 + 1024), math.pi / 2)
    assert position.from_si(-math.pi) == 0
    assert math.isclose(item("present_velocity").to_si(1), 0.229 * 2 * math.pi / 60)
    assert math.isclose(item("present_current").to_si(-1000), -2.69)
    assert item("bus_watchdog").decode(b"\xff") == -1


def test_unknown_item_suggests_and_is_a_bridge_error() -> None:
    with pytest.raises(UnknownItemError, match="did you mean goal_position") as info:
        item("goal-postion")
    assert isinstance(info.value, BridgeError)
    assert str(info.value).startswith("'goal-postion' is not")


def test_encode_range_and_hardware_errors() -> None:
    with pytest.raises(ValueError, match=r"torque_enable takes 0\.\.255"):
        item("torque_enable").encode(256)
    assert describe_hardware_error(0) == ""
    assert describe_hardware_error(0b100100) == "overheating, overload"
