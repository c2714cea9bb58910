"""One simulated DYNAMIXEL servo (X-, P- or Y-series): its control table and the rules it enforces.

The model number picks the table (`firmware_bridge.dynamixel.models`), so a simulated PH54 or
YM080 answers at its own addresses, in its own units, as the real one does.

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

from firmware_bridge.dynamixel.control_table import BAUD_INDEX, BAUD_RATES, Item
from firmware_bridge.dynamixel.models import ServoModel, model_for

ERR_RANGE = 4
ERR_LENGTH = 5
ERR_ACCESS = 7
ALERT = 0x80  # status ERR bit: read Hardware Error Status
WATCHDOG_UNIT_S = 0.02  # Bus Watchdog counts in 20 ms units (e-manual, address 98)

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
def _touched(model: ServoModel, address: int, end: int) -> _Span:
    """What a write to [address, end) touches, cached: sync writes repeat one span each period."""
    items = tuple(
        e for e in model.items.values() if e.address < end and address < e.address + e.size
    )
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
        self.model = model = model_for(model_number)
        self.table = bytearray(model.table_size)
        for entry in model.items.values():
            self.table[entry.address : entry.address + entry.size] = entry.encode(entry.default)
        item = model.item
        self._torque = item("torque_enable")
        self._watchdog = item("bus_watchdog")
        self._shutdown = model.items.get("shutdown")  # the Y-series has none
        # The Y-series reports faults in Error Code instead of Hardware Error Status.
        self._hardware_error = model.items.get("hardware_error_status") or item("error_code")
        self._baud = item("baud_rate")
        self.status_level_at = item("status_return_level").address
        self.registered_at = item("registered_instruction").address
        self.goal_at = model.goal_address
        self.torque_at = self._torque.address
        self.state_at = model.state_address
        self.tick_at = item("realtime_tick").address
        goal_items = [item(n) for n in ("goal_pwm", "goal_current", "goal_velocity")]
        self._goal_range = range(min(e.address for e in goal_items), self.goal_at + 4)
        self._set(item("model_number"), model_number)
        self._set(item("firmware_version"), firmware)
        self._set(item("id"), servo_id)
        self._set(self._baud, BAUD_INDEX.get(baud, 3))
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
        return BAUD_RATES.get(self.table[self._baud.address], 0)

    @property
    def torque_on(self) -> bool:
        return self.table[self.torque_at] == 1

    @property
    def status_return_level(self) -> int:
        return self.table[self.status_level_at]

    @property
    def alert(self) -> int:
        """The alert bit every status packet carries while a hardware error is latched."""
        return ALERT if self.table[self._hardware_error.address] else 0

    def hardware_error(self, bits: int) -> bool:
        """Latch hardware error `bits`; True when Shutdown made it turn torque off."""
        self.table[self._hardware_error.address] |= bits
        shutdown = self.table[self._shutdown.address] if self._shutdown else 0xFF
        if bits & shutdown and self.torque_on:
            self.table[self.torque_at] = 0
            return True
        return False

    @property
    def watchdog_latched(self) -> bool:
        return self.get(self._watchdog) < 0

    @property
    def present_range(self) -> range:
        """Reads overlapping these addresses ask the plant first (realtime tick to the end)."""
        return range(self.tick_at, self.model.table_size)

    def read(self, address: int, length: int) -> tuple[int, bytes]:
        """(ERR, data) for a READ of `length` bytes at `address`."""
        if length == 0:
            return ERR_LENGTH | self.alert, b""
        if address < 0 or address + length > len(self.table):
            return ERR_ACCESS | self.alert, b""
        return self.alert, bytes(self.table[address : address + length])

    def check_write(self, address: int, data: bytes) -> int:
        """The ERR a real servo answers to this write (0 when it accepts it)."""
        if not data:
            return ERR_LENGTH
        end = address + len(data)
        if address < 0 or end > len(self.table):
            return ERR_ACCESS
        span = _touched(self.model, address, end)
        if not span.items or span.read_only:
            return ERR_ACCESS
        if span.eeprom and self.torque_on:
            return ERR_ACCESS
        if span.goal and self.watchdog_latched:  # -1: watchdog tripped
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
        goals = self._goal_range
        return (address < goals.stop and goals.start < end) or (address <= self.torque_at < end)

    # -- bus watchdog --------------------------------------------------------------------------

    def feed(self, now_s: float) -> None:
        self.last_packet_s = now_s

    def watchdog_deadline_s(self) -> float | None:
        """When the watchdog runs out unless a packet comes first (monotonic s); None when it
        is not watching: off, already tripped (-1), or torque off."""
        limit = self.get(self._watchdog)
        if limit <= 0 or not self.torque_on:
            return None
        return self.last_packet_s + limit * WATCHDOG_UNIT_S

    def watchdog_expired(self, now_s: float) -> bool:
        """True once when the watchdog runs out: the caller then stops the motor."""
        deadline_s = self.watchdog_deadline_s()
        if deadline_s is None or now_s <= deadline_s:
            return False
        self._set(self._watchdog, -1)
        self.watchdog_trips += 1
        return True

    def reset_ram(self) -> None:
        """What REBOOT does to RAM: defaults again, torque off, watchdog cleared."""
        for entry in self.model.items.values():
            if not entry.eeprom and entry.writable:
                self._set(entry, entry.default)
        self.table[self._hardware_error.address] = 0
        self.pending = None
