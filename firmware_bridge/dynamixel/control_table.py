"""The ROBOTIS X-series control table (XM430/XM540 layout): name -> address, size, units.

Addresses below 64 live in EEPROM: a servo refuses to write them while torque is on (Access
error), which is why commissioning commands turn torque off first. Units convert raw ticks to SI:
positions to radians with 2048 ticks = 0 rad and 4096 ticks per turn, velocities to rad/s
(0.229 rpm per tick), currents to amperes (2.69 mA per tick on XM/XH; `x_items` builds the
same layout for the 1 mA XL330/XC330). `ITEMS` and `item()` are the XM430's; other models
and the P- and Y-series tables live in `models` and `family_tables`.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass

from firmware_bridge.errors import BridgeError

TICKS_PER_TURN = 4096
CENTER_TICKS = 2048
RAD_PER_TICK = 2.0 * math.pi / TICKS_PER_TURN
RAD_S_PER_TICK = 0.229 * 2.0 * math.pi / 60.0
AMPS_PER_TICK = 0.00269
EEPROM_END = 64  # addresses below this are EEPROM

# Baud Rate (address 8) index -> bits per second.
BAUD_RATES = {
    0: 9600,
    1: 57_600,
    2: 115_200,
    3: 1_000_000,
    4: 2_000_000,
    5: 3_000_000,
    6: 4_000_000,
    7: 4_500_000,
}
BAUD_INDEX = {baud: index for index, baud in BAUD_RATES.items()}


# Hardware Error Status (address 70) bits; any of them also raises the alert bit in statuses.
HARDWARE_ERRORS = {
    0: "input voltage out of range",
    2: "overheating",
    3: "motor encoder error",
    4: "electrical shock",
    5: "overload",
}


def describe_hardware_error(bits: int) -> str:
    """Hardware Error Status as words ('' when clear). Only a reboot clears these."""
    names = [name for bit, name in HARDWARE_ERRORS.items() if bits & (1 << bit)]
    unknown = bits & ~sum(1 << bit for bit in HARDWARE_ERRORS)
    if unknown:
        names.append(f"unknown bits 0x{unknown:02x}")
    return ", ".join(names)


class UnknownItemError(BridgeError, KeyError):
    """A control-table item name that the X-series table does not have."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


@dataclass(frozen=True)
class Item:
    """One control-table entry; `scale` converts ticks to `unit`: si = (raw - offset) * scale."""

    name: str
    address: int
    size: int
    signed: bool = False
    writable: bool = True
    unit: str = ""
    scale: float = 1.0
    offset: int = 0
    default: int = 0
    eeprom_end: int = EEPROM_END  # P/Y-series: 512
    ram: bool = False  # a RAM item below eeprom_end (the Y-series watchdog, status level)

    @property
    def eeprom(self) -> bool:
        return self.address < self.eeprom_end and not self.ram

    def to_si(self, raw: int) -> float:
        return (raw - self.offset) * self.scale

    def from_si(self, value: float) -> int:
        return round(value / self.scale + self.offset)

    def encode(self, raw: int) -> bytes:
        """Raw value as little-endian bytes; ValueError when it does not fit the item."""
        try:
            return int(raw).to_bytes(self.size, "little", signed=self.signed)
        except OverflowError:
            bits = 8 * self.size
            lo = -(1 << (bits - 1)) if self.signed else 0
            hi = (1 << (bits - 1)) - 1 if self.signed else (1 << bits) - 1
            raise ValueError(f"{self.name} takes {lo}..{hi}, got {raw}") from None

    def decode(self, data: bytes) -> int:
        return int.from_bytes(data[: self.size], "little", signed=self.signed)


def x_items(amps_per_tick: float = AMPS_PER_TICK) -> list[Item]:
    """The X-series table; only the current unit differs between the models we support."""
    return [
        Item("model_number", 0, 2, writable=False, default=1020),
        Item("model_information", 2, 4, writable=False),
        Item("firmware_version", 6, 1, writable=False, default=46),
        Item("id", 7, 1, default=1),
        Item("baud_rate", 8, 1, default=3),
        Item("return_delay_time", 9, 1, unit="s", scale=2e-6, default=0),
        Item("drive_mode", 10, 1),
        Item("operating_mode", 11, 1, default=3),
        Item("secondary_id", 12, 1, default=255),
        Item("protocol_type", 13, 1, default=2),
        Item("homing_offset", 20, 4, signed=True, unit="rad", scale=RAD_PER_TICK),
        Item("moving_threshold", 24, 4, unit="rad/s", scale=RAD_S_PER_TICK, default=10),
        Item("temperature_limit", 31, 1, unit="degC", default=80),
        Item("max_voltage_limit", 32, 2, unit="V", scale=0.1, default=160),
        Item("min_voltage_limit", 34, 2, unit="V", scale=0.1, default=95),
        Item("pwm_limit", 36, 2, default=885),
        Item("current_limit", 38, 2, unit="A", scale=amps_per_tick, default=1193),
        Item("velocity_limit", 44, 4, unit="rad/s", scale=RAD_S_PER_TICK, default=200),
        Item(
            "max_position_limit",
            48,
            4,
            unit="rad",
            scale=RAD_PER_TICK,
            offset=CENTER_TICKS,
            default=4095,
        ),
        Item("min_position_limit", 52, 4, unit="rad", scale=RAD_PER_TICK, offset=CENTER_TICKS),
        Item("shutdown", 63, 1, default=52),
        Item("torque_enable", 64, 1),
        Item("led", 65, 1),
        Item("status_return_level", 68, 1, default=2),
        Item("registered_instruction", 69, 1, writable=False),
        Item("hardware_error_status", 70, 1, writable=False),
        Item("velocity_i_gain", 76, 2, default=1920),
        Item("velocity_p_gain", 78, 2, default=100),
        Item("position_d_gain", 80, 2),
        Item("position_i_gain", 82, 2),
        Item("position_p_gain", 84, 2, default=800),
        Item("feedforward_2nd_gain", 88, 2),
        Item("feedforward_1st_gain", 90, 2),
        Item("bus_watchdog", 98, 1, signed=True, unit="s", scale=0.02),
        Item("goal_pwm", 100, 2, signed=True),
        Item("goal_current", 102, 2, signed=True, unit="A", scale=amps_per_tick),
        Item("goal_velocity", 104, 4, signed=True, unit="rad/s", scale=RAD_S_PER_TICK),
        Item("profile_acceleration", 108, 4),
        Item("profile_velocity", 112, 4),
        Item(
            "goal_position",
            116,
            4,
            signed=True,
            unit="rad",
            scale=RAD_PER_TICK,
            offset=CENTER_TICKS,
            default=CENTER_TICKS,
        ),
        Item("realtime_tick", 120, 2, writable=False, unit="s", scale=1e-3),
        Item("moving", 122, 1, writable=False),
        Item("moving_status", 123, 1, writable=False),
        Item("present_pwm", 124, 2, signed=True, writable=False),
        Item("present_current", 126, 2, signed=True, writable=False, unit="A", scale=amps_per_tick),
        Item(
            "present_velocity",
            128,
            4,
            signed=True,
            writable=False,
            unit="rad/s",
            scale=RAD_S_PER_TICK,
        ),
        Item(
            "present_position",
            132,
            4,
            signed=True,
            writable=False,
            unit="rad",
            scale=RAD_PER_TICK,
            offset=CENTER_TICKS,
            default=CENTER_TICKS,
        ),
        Item("velocity_trajectory", 136, 4, signed=True, writable=False),
        Item("position_trajectory", 140, 4, signed=True, writable=False),
        Item("present_input_voltage", 144, 2, writable=False, unit="V", scale=0.1, default=120),
        Item("present_temperature", 146, 1, writable=False, unit="degC", default=30),
    ]


_ITEMS = x_items()

ITEMS: dict[str, Item] = {item.name: item for item in _ITEMS}
TABLE_SIZE = 148  # one past present_temperature

# The block read every control period: present current, velocity, position (126..135).
STATE_ADDRESS = 126
STATE_SIZE = 10


def item(name: str) -> Item:
    """Look an item up by name (dashes or underscores), with a suggestion when it is misspelt."""
    key = name.strip().lower().replace("-", "_")
    if key in ITEMS:
        return ITEMS[key]
    close = difflib.get_close_matches(key, ITEMS, n=3)
    hint = f"did you mean {', '.join(close)}?" if close else "see `edgerun motors read --help`."
    raise UnknownItemError(f"'{name}' is not an X-series control-table item; {hint}")


def item_at(address: int) -> Item | None:
    for entry in _ITEMS:
        if entry.address == address:
            return entry
    return None
