"""DYNAMIXEL models by the number a PING answers: which control table, which units.

The bus pings every servo at open; the model number it reads picks the servo's `ServoModel`,
so positions, velocities and currents come out in SI units whatever the servo: X-series
positions are 4096 ticks per turn around 2048, P-series ±half the resolution around 0 (PH54:
1,003,846 pulses per turn), Y-series 524,288 (19 bit) around 0. Model numbers and
resolutions: the e-manual page of each model (docs/dynamixel.md lists them).

Only models whose table and units were checked are listed: an unknown number is a clear
error, never a guess (a servo driven with the wrong table would move to the wrong place).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from firmware_bridge.dynamixel.control_table import (
    CENTER_TICKS,
    ITEMS,
    TABLE_SIZE,
    Item,
    UnknownItemError,
    item,
    x_items,
)
from firmware_bridge.dynamixel.family_tables import (
    P_ROWS,
    P_TABLE_SIZE,
    RAD_S_PER_CENTI_RPM,
    Y_ROWS,
    Y_TABLE_SIZE,
    family_items,
)
from firmware_bridge.errors import BridgeError

X_RAD_S_PER_TICK = 0.229 * 2.0 * math.pi / 60.0


class UnknownModelError(BridgeError, ValueError):
    """A model number this driver has no checked control table for."""


@dataclass(frozen=True)
class ServoModel:
    """One model: its control table and the units of the control period's block."""

    name: str
    number: int
    family: str  # "X", "P" or "Y"
    ticks_per_rev: int
    center_ticks: int
    amps_per_tick: float
    rad_s_per_tick: float
    table_size: int
    items: Mapping[str, Item] = field(repr=False, compare=False, hash=False)

    @property
    def rad_per_tick(self) -> float:
        return 2.0 * math.pi / self.ticks_per_rev

    @property
    def state_address(self) -> int:
        """Present current, velocity, position: one 10-byte block ("hii") on every family."""
        return self.items["present_current"].address

    @property
    def goal_address(self) -> int:
        return self.items["goal_position"].address

    @property
    def layout(self) -> tuple[int, int]:
        """Servos with one layout share one sync read and one sync write per period."""
        return (self.state_address, self.goal_address)

    def item(self, name: str) -> Item:
        key = name.strip().lower().replace("-", "_")
        if key in self.items:
            return self.items[key]
        close = difflib.get_close_matches(key, self.items, n=3)
        hint = f"did you mean {', '.join(close)}?" if close else "see the model's e-manual page."
        raise UnknownItemError(f"'{name}' is not a {self.name} control-table item; {hint}")


def _x(name: str, number: int, amps_per_tick: float) -> ServoModel:
    items = ITEMS if amps_per_tick == 0.00269 else {i.name: i for i in x_items(amps_per_tick)}
    return ServoModel(
        name, number, "X", 4096, CENTER_TICKS, amps_per_tick, X_RAD_S_PER_TICK, TABLE_SIZE, items
    )


def _family(family: str, rows: list, table_size: int, amps_per_tick: float) -> Any:
    """A builder of P- or Y-series models: same table for the family, resolution per model."""

    def build(name: str, number: int, ticks_per_rev: int) -> ServoModel:
        items = family_items(rows, 2.0 * math.pi / ticks_per_rev, amps_per_tick, number)
        return ServoModel(
            name, number, family, ticks_per_rev, 0, amps_per_tick, RAD_S_PER_CENTI_RPM,
            table_size, {i.name: i for i in items},
        )  # fmt: skip

    return build


_p = _family("P", P_ROWS, P_TABLE_SIZE, 0.001)  # current 1 mA per tick
_y = _family("Y", Y_ROWS, Y_TABLE_SIZE, 0.01)  # current 0.01 A per tick


# (name, number, family builder, unit): current per tick for X, pulses per turn for P and Y.
_MODELS = (
    ("XM430-W350", 1020, _x, 0.00269),
    ("XM430-W210", 1030, _x, 0.00269),
    ("XM540-W270", 1120, _x, 0.00269),
    ("XM540-W150", 1130, _x, 0.00269),
    ("XH430-W350", 1000, _x, 0.00269),
    ("XH430-W210", 1010, _x, 0.00269),
    ("XH540-W270", 1100, _x, 0.00269),
    ("XH540-W150", 1110, _x, 0.00269),
    ("XL330-M077", 1190, _x, 0.001),
    ("XL330-M288", 1200, _x, 0.001),
    ("XC330-T181", 1210, _x, 0.001),
    ("XC330-T288", 1220, _x, 0.001),
    ("PH42-020-S300-R", 2000, _p, 607_500),
    ("PH54-100-S500-R", 2010, _p, 1_003_846),
    ("PH54-200-S500-R", 2020, _p, 1_003_846),
    ("PM42-010-S260-R", 2100, _p, 526_374),
    ("PM54-040-S250-R", 2110, _p, 502_834),
    ("PM54-060-S250-R", 2120, _p, 502_834),
    ("YM070-210-M001-RH", 4000, _y, 524_288),
    ("YM080-230-M001-RH", 4120, _y, 524_288),
)

XM430_W350 = 1020
PH54_200 = 2020
YM080_230_M001 = 4120


@cache
def model_for(number: int) -> ServoModel:
    """The checked model with this number; `UnknownModelError` with what to do otherwise."""
    for name, model_number, build, unit in _MODELS:
        if model_number == number:
            return build(name, model_number, unit)
    raise UnknownModelError(
        f"servo model number {number} has no checked control table in edge-runtime (known: "
        f"{', '.join(f'{n} ({m})' for n, m, _b, _u in _MODELS)}); use a listed model or add "
        "its table from the ROBOTIS e-manual to firmware_bridge/dynamixel/models.py"
    )


def model_name(number: int) -> str:
    """'XM430-W350' for 1020; 'unknown' for a number without a checked table."""
    for name, model_number, _build, _unit in _MODELS:
        if model_number == number:
            return name
    return "unknown"


def any_item(name: str) -> Item:
    """Item `name` of the X-series table, else of the first family that has it (P, then Y).

    For checks made before a servo's model is known; a name no family has raises the X-series
    `UnknownItemError`, with its suggestion.
    """
    try:
        return item(name)
    except UnknownItemError:
        for number in (PH54_200, YM080_230_M001):
            model = model_for(number)
            key = name.strip().lower().replace("-", "_")
            if key in model.items:
                return model.items[key]
        raise
