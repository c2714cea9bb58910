"""Every DYNAMIXEL family through the real driver: X, P and Y servos on one simulated chain."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest
from servo_moves import drive_to

from firmware_bridge.dynamixel import DynamixelBus
from firmware_bridge.dynamixel import commissioning as dxl
from firmware_bridge.dynamixel.models import (
    PH54_200,
    XM430_W350,
    YM080_230_M001,
    UnknownModelError,
    model_for,
)
from firmware_bridge.sim.servo_device import SimServoChain

PATIENT = 0.05  # a loaded machine: replies from the in-process chain may be late
MODELS = {1: XM430_W350, 2: PH54_200, 3: YM080_230_M001}


def test_units_come_from_the_model_number() -> None:
    xm, ph, ym = (model_for(n) for n in (XM430_W350, PH54_200, YM080_230_M001))
    assert (xm.ticks_per_rev, ph.ticks_per_rev, ym.ticks_per_rev) == (4096, 1_003_846, 524_288)
    assert ph.item("present_position").to_si(501_923) == pytest.approx(math.pi)  # half a turn
    assert ym.item("present_position").to_si(-131_072) == pytest.approx(-math.pi / 2)
    assert model_for(1200).item("present_current").to_si(100) == pytest.approx(0.1)  # XL330: 1 mA
    assert ph.item("present_current").to_si(100) == pytest.approx(0.1)
    assert ym.item("present_current").to_si(100) == pytest.approx(1.0)  # 0.01 A
    assert (ph.layout, ym.layout) == ((574, 564), (546, 532))
    assert ph.item("torque_enable").address == ym.item("torque_enable").address == 512
    assert not ym.item("bus_watchdog").eeprom
    assert ym.item("operating_mode").eeprom
    with pytest.raises(UnknownModelError, match="model number 1075 has no checked"):
        model_for(1075)


def test_mixed_chain_read_and_commanded_in_si_units() -> None:
    with (
        SimServoChain(MODELS, models=MODELS) as chain,
        DynamixelBus(chain.port, [1, 2, 3], latency_s=PATIENT) as bus,
    ):
        assert [bus.model(i).family for i in (1, 2, 3)] == ["X", "P", "Y"]
        bus.enable()
        assert all(s.torque_on for s in chain.servos)
        goal = np.array([0.3, -0.5, 1.0])
        state = drive_to(bus, goal)
        np.testing.assert_allclose(state.positions_rad, goal, atol=2e-3)
        # Each servo holds the goal in its own ticks, at its own address.
        ph, ym = chain.servo(2), chain.servo(3)
        assert struct.unpack_from("<i", ph.table, 564)[0] == round(-0.5 / (2 * math.pi) * 1_003_846)
        assert struct.unpack_from("<i", ym.table, 532)[0] == round(1.0 / (2 * math.pi) * 524_288)
        assert struct.unpack_from("<h", ym.table, 8)[0] == 5  # the Y watchdog: 2 bytes at 8
    assert not any(s.torque_on for s in chain.servos)  # torque off at each family's address


def test_mixed_x_p_chain_scan_shows_the_models() -> None:
    with SimServoChain([1, 2, 4], models={4: PH54_200}) as chain:
        found = list(dxl.scan(chain.port, [1_000_000]))
    assert [(s.servo_id, s.model, s.model_name) for s in found] == [
        (1, 1020, "XM430-W350"),
        (2, 1020, "XM430-W350"),
        (4, 2020, "PH54-200-S500-R"),
    ]


def test_commissioning_reads_and_writes_a_p_servo_in_its_own_table() -> None:
    with SimServoChain([1, 2], models={2: PH54_200}) as chain:
        written = dxl.write_item(chain.port, 1_000_000, 2, "goal_position", "0.5", si=True)
        assert written.raw == round(0.5 / (2 * math.pi) * 1_003_846)
        assert struct.unpack_from("<i", chain.servo(2).table, 564)[0] == written.raw
        assert dxl.read_item(chain.port, 1_000_000, 2, "led_red").item.address == 513
        assert dxl.read_item(chain.port, 1_000_000, 1, "goal_position").item.address == 116
