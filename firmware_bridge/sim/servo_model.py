"""One simulated X-series servo: its control table and the rules a real one enforces.

The rules a driver must cope with are kept: EEPROM items (below address 64) refuse writes with
torque on, read-only items refuse writes, out-of-range values give a Data Range error, and the
Bus Watchdog (address 98, 20 ms units) watches the time between instruction packets while
torque is on. When it expires the servo stops where it is, the item reads -1 and goal items
refuse writes (Access error) until the host writes 0 to the watchdog. A hardware error
(overload, overheating, ...) sets Hardware Error Status, raises the alert bit in every status
packet and, for the kinds Shutdown selects, turns torque off; only a reboot clears it.
"""

from __future__ import annotations

import functools
import time
from typing import NamedTuple

from firmware_bridge.dynamixel.control_table import (
    BAUD_INDEX,
    BAUD_RATES,
    ITEMS,
    TABLE_SIZE,
    Item,
    item,
)

ERR_RANGE = 4
ERR_LENGTH = 5
ERR_ACCESS = 7
ALERT = 0x80  # status ERR bit: read Hardware Error Status

_TORQUE = item("torque_enable")
_WATCHDOG = item("bus_watchdog")
_SHUTDOWN = item("shutdown")
_HARDWARE_ERROR = item("hardware_error_status")
_GOALS = (item("goal_pwm"), item("goal_current"), item("goal_velocity"), item("goal_position"))
_GOAL_RANGE = range(_GOALS[0].address, _GOALS[-1].address + 4)
_OPERATING_MODES = {0, 1, 3, 4, 5, 16}


_RANGED = {"id", "baud_rate", "torque_enable", "led", "bus_watchdog", "operating_mode",
           "status_return_level"}  # fmt: skip


class _Span(NamedTuple):
    items: tuple[Item, ...]
    read_only: bool
    eeprom: bool
    goal: bool
    ranged: tuple[Item, ...]


@functools.lru_cache(maxsize=256)
def _touched(address: int, end: int) -> _Span:
    """What a write to [address, end) touches, cached: sync writes repeat one span each period."""
    items = tuple(e for e in ITEMS.values() if e.address < end and address < e.address + e.size)
    return _Span(
        items,
        read_only=any(not e.writable for e in items),
        eeprom=any(e.eeprom for e in items),
        goal=any(e.name.startswith("goal_") for e in items),
        ranged=tuple(e for e in items if e.name in _RANGED),
    )


class SimServo:
    """Control table plus the checks applied to writes. Not thread-safe: the chain locks."""

    def __init__(self, servo_id: int, baud: int, model_number: int, firmware: int) -> None:
        self.table = bytearray(TABLE_SIZE)
        for entry in ITEMS.values():
            self.table[entry.address : entry.address + entry.size] = entry.encode(entry.default)
        self._set(item("model_number"), model_number)
        self._set(item("firmware_version"), firmware)
        self._set(item("id"), servo_id)
        self._set(item("baud_rate"), BAUD_INDEX.get(baud, 3))
        self.pending: tuple[int, bytes] | None = None  # REG_WRITE waiting for ACTION
        self.last_packet_s = time.monotonic()
        self.watchdog_trips = 0

    # -- table access --------------------------------------------------------------------------

    def get(self, entry: Item) -> int:
        return entry.decode(self.table[entry.address : entry.address + entry.size])

    def _set(self, entry: Item, raw: int) -> None:
        self.table[entry.address : entry.address + entry.size] = entry.encode(raw)

    @property
    def id(self) -> int:
        return self.table[7]

    @property
    def baud(self) -> int:
        return BAUD_RATES.get(self.table[8], 0)

    @property
    def torque_on(self) -> bool:
        return self.table[_TORQUE.address] == 1

    @property
    def alert(self) -> int:
        """The alert bit every status packet carries while a hardware error is latched."""
        return ALERT if self.table[_HARDWARE_ERROR.address] else 0

    def hardware_error(self, bits: int) -> bool:
        """Latch hardware error `bits`; True when Shutdown made it turn torque off."""
        self.table[_HARDWARE_ERROR.address] |= bits
        if bits & self.table[_SHUTDOWN.address] and self.torque_on:
            self.table[_TORQUE.address] = 0
            return True
        return False

    @property
    def watchdog_latched(self) -> bool:
        return self.get(_WATCHDOG) < 0

    def read(self, address: int, length: int) -> tuple[int, bytes]:
        """(ERR, data) for a READ of `length` bytes at `address`."""
        if length == 0:
            return ERR_LENGTH | self.alert, b""
        if address < 0 or address + length > TABLE_SIZE:
            return ERR_ACCESS | self.alert, b""
        return self.alert, bytes(self.table[address : address + length])

    def check_write(self, address: int, data: bytes) -> int:
        """The ERR a real servo answers to this write (0 when it accepts it)."""
        if not data:
            return ERR_LENGTH
        end = address + len(data)
        if address < 0 or end > TABLE_SIZE:
            return ERR_ACCESS
        span = _touched(address, end)
        if not span.items or span.read_only:
            return ERR_ACCESS
        if span.eeprom and self.table[_TORQUE.address] == 1:
            return ERR_ACCESS
        if span.goal and self.table[_WATCHDOG.address] >= 0x80:  # -1: watchdog tripped
            return ERR_ACCESS
        if span.ranged:
            staged = bytearray(self.table)
            staged[address:end] = data
            for entry in span.ranged:
                if not self._in_range(entry, entry.decode(staged[entry.address :])):
                    return ERR_RANGE
        return 0

    @staticmethod
    def _in_range(entry: Item, value: int) -> bool:
        name = entry.name
        if name == "id":
            return 0 <= value <= 252
        if name == "baud_rate":
            return value in BAUD_RATES
        if name in ("torque_enable", "led"):
            return value in (0, 1)
        if name == "bus_watchdog":
            return 0 <= value <= 127
        if name == "operating_mode":
            return value in _OPERATING_MODES
        if name == "status_return_level":
            return 0 <= value <= 2
        return True

    def apply_write(self, address: int, data: bytes) -> None:
        """Store a write that `check_write` accepted (turning torque off clears nothing else)."""
        self.table[address : address + len(data)] = data

    def touches_goal(self, address: int, length: int) -> bool:
        end = address + length
        return (address < _GOAL_RANGE.stop and _GOAL_RANGE.start < end) or (
            address <= _TORQUE.address < end
        )

    # -- bus watchdog --------------------------------------------------------------------------

    def feed(self, now_s: float) -> None:
        self.last_packet_s = now_s

    def watchdog_expired(self, now_s: float) -> bool:
        """True once when the watchdog runs out: the caller then stops the motor."""
        limit = self.table[_WATCHDOG.address]
        if limit == 0 or limit >= 0x80 or self.table[_TORQUE.address] != 1:
            return False  # off, already tripped (-1), or torque off (not monitored)
        if now_s - self.last_packet_s <= limit * 0.02:
            return False
        self._set(_WATCHDOG, -1)
        self.watchdog_trips += 1
        return True

    def reset_ram(self) -> None:
        """What REBOOT does to RAM: defaults again, torque off, watchdog cleared."""
        for entry in ITEMS.values():
            if not entry.eeprom and entry.writable:
                self._set(entry, entry.default)
        self.table[_HARDWARE_ERROR.address] = 0
        self.pending = None
