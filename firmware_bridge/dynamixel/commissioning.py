"""Commissioning a Dynamixel chain: scan, read and write items, set id or baud, reboot.

These are the procedures behind `edgerun motors ...`, kept here so a script or a calibration
tool can run them without the CLI. Each opens the port, does one job and closes it again,
even when the job fails, so the next command finds the port free. Results are dataclasses
for the caller to print. Bad input raises `DynamixelConfigError` before the port is opened;
a bus or servo failure raises a `MotorBusError`. Both carry one sentence saying what to do.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from firmware_bridge.base import JointState
from firmware_bridge.dynamixel.bus import DynamixelConfigError
from firmware_bridge.dynamixel.client import ServoClient
from firmware_bridge.dynamixel.control_table import BAUD_INDEX, Item, describe_hardware_error
from firmware_bridge.dynamixel.link import DynamixelLink
from firmware_bridge.dynamixel.models import UnknownModelError, any_item, model_for, model_name
from firmware_bridge.dynamixel.protocol import MAX_ID

# The order `scan --baud all` tries: the usual rate (1 Mbaud) and the factory default first.
SCAN_BAUDS = (1_000_000, 57_600, 2_000_000, 3_000_000, 4_000_000, 115_200, 9600)


@dataclass(frozen=True)
class FoundServo:
    """A servo that answered a scan: who it is and the baud rate it answered at."""

    servo_id: int
    model: int
    firmware: int
    baud: int

    @property
    def model_name(self) -> str:
        """'PH54-200-S500-R' for 2020; 'unknown' without a checked control table."""
        return model_name(self.model)


@dataclass(frozen=True)
class ItemValue:
    """One control-table item of one servo as read or written, in raw ticks."""

    servo_id: int
    item: Item
    raw: int

    @property
    def value_si(self) -> float | None:
        """The value in the item's unit (`item.unit`); None for items without one."""
        return self.item.to_si(self.raw) if self.item.unit else None

    @property
    def hardware_errors(self) -> str:
        """A hardware_error_status reading's set bits in words ('' if clear or another item)."""
        if self.item.name != "hardware_error_status" or not self.raw:
            return ""
        return describe_hardware_error(self.raw)


def parse_ids(text: str) -> list[int]:
    """'1-6' or '1,3,5-7' -> sorted unique ids; DynamixelConfigError with the fix otherwise."""
    ids: set[int] = set()
    try:
        for part in text.split(","):
            part = part.strip()
            if "-" in part:
                lo, hi = (int(x) for x in part.split("-", 1))
                ids.update(range(lo, hi + 1))
            elif part:
                ids.add(int(part))
    except ValueError:
        raise DynamixelConfigError(
            f"cannot read servo ids from '{text}'; write them like 1-6 or 1,3,5-7"
        ) from None
    if not ids or min(ids) < 0 or max(ids) > MAX_ID:
        raise DynamixelConfigError(f"servo ids must be within 0..{MAX_ID}, got '{text}'")
    return sorted(ids)


def parse_models(text: str) -> dict[int, int]:
    """'5=2020,6=4120' -> {5: 2020, 6: 4120} (id = model number), each a checked model."""
    models: dict[int, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        servo_id, _, number = part.partition("=")
        try:
            models[int(servo_id)] = int(number)
        except ValueError:
            raise DynamixelConfigError(
                f"cannot read '{part}' as id=model; write them like 5=2020,6=4120"
            ) from None
    for number in models.values():
        try:
            model_for(number)
        except UnknownModelError as exc:
            raise DynamixelConfigError(str(exc)) from None
    return models


def parse_baud(text: str | int) -> int:
    """'1000000', '1_000_000' or '1e6' -> 1000000, if X-series servos run at that rate."""
    try:
        baud = int(float(str(text).replace("_", "")))
    except ValueError:
        baud = -1
    if baud not in BAUD_INDEX:
        raise DynamixelConfigError(
            f"X-series servos do not run at '{text}' baud; use one of {sorted(BAUD_INDEX)}"
        )
    return baud


@contextmanager
def open_client(port: str, baud: int) -> Iterator[ServoClient]:
    """A `ServoClient` on `port` at `baud` for the block; the port is closed when it ends."""
    with DynamixelLink(port, parse_baud(baud)) as link:
        yield ServoClient(link)


def scan(port: str, bauds: Sequence[int], ids: Iterable[int] | None = None) -> Iterator[FoundServo]:
    """Servos answering at each of `bauds` in turn (all by broadcast ping when `ids` is None).

    A generator, so a caller trying every baud rate can show each rate's servos as soon as
    that rate is done rather than after the whole scan.
    """
    wanted = None if ids is None else list(ids)
    for baud in bauds:
        with open_client(port, baud) as client:
            found = client.scan(wanted)
        for servo_id, (model, firmware) in found.items():
            yield FoundServo(servo_id, model, firmware, baud)


def find_servos(port: str, baud: int) -> list[int]:
    """The ids answering a broadcast ping, or DynamixelConfigError when none does."""
    with open_client(port, baud) as client:
        ids = sorted(client.broadcast_ping())
    if not ids:
        raise DynamixelConfigError(f"no servo answered on {port} at {baud} baud")
    return ids


def read_item(port: str, baud: int, servo_id: int, name: str) -> ItemValue:
    """Read item `name` (dashes or underscores) of servo `servo_id`, in its model's table."""
    any_item(name)  # a misspelt name fails before the port opens
    with open_client(port, baud) as client:
        entry = _servo_item(client, servo_id, name)
        return ItemValue(servo_id, entry, client.read_item(servo_id, entry.name))


def write_item(
    port: str, baud: int, servo_id: int, name: str, value: str | float, si: bool = False
) -> ItemValue:
    """Write `value` to item `name`: raw integer ticks, or in the item's unit with `si`.

    The value is checked before the port opens (against the X-series item, or any family's
    for a name the X-series lacks): a fraction without `si` would be silently truncated, and a
    value the item cannot hold would be refused by the servo. Once the servo's model is known
    the value is converted and checked again with its own item (P/Y units differ).
    """
    _raw_value(any_item(name), value, si)
    with open_client(port, baud) as client:
        entry = _servo_item(client, servo_id, name)
        raw = _raw_value(entry, value, si)
        client.write_item(servo_id, entry.name, raw)
    return ItemValue(servo_id, entry, raw)


def _servo_item(client: ServoClient, servo_id: int, name: str) -> Item:
    """Item `name` in the table of the model servo `servo_id` answers a ping with."""
    info = client.ping(servo_id)
    if info is not None and model_name(info[0]) != "unknown":
        client.models[servo_id] = model_for(info[0])
    return client.item_of(servo_id, name)


def _raw_value(entry: Item, value: str | float, si: bool) -> int:
    try:
        number = float(value)
    except ValueError:
        raise DynamixelConfigError(f"'{value}' is not a number for {entry.name}") from None
    raw = entry.from_si(number) if si else int(number)
    if not si and number != raw:
        unit = entry.unit or "its unit"
        raise DynamixelConfigError(
            f"{entry.name} takes raw integer ticks; pass --si to give {number} in {unit}"
        )
    try:
        entry.encode(raw)
    except ValueError as exc:
        raise DynamixelConfigError(str(exc)) from None
    return raw


def set_id(port: str, baud: int, servo_id: int, new_id: int) -> bool:
    """Give servo `servo_id` the id `new_id` (torque goes off); True if it answers as `new_id`.

    Refuses an id another servo already answers to: two servos with one id garble each
    other's answers, and telling them apart again takes unplugging one.
    """
    if not 0 <= new_id <= MAX_ID:
        raise DynamixelConfigError(f"a servo id must be within 0..{MAX_ID}, got {new_id}")
    with open_client(port, baud) as client:
        if client.ping(new_id) is not None:
            raise DynamixelConfigError(
                f"id {new_id} is already taken on {port}; pick a free id "
                "(`edgerun motors scan`) so two servos never share one"
            )
        client.write_item(servo_id, "torque_enable", 0)  # the id lives in EEPROM
        client.write_item(servo_id, "id", new_id)
        return client.ping(new_id) is not None


def set_baud(port: str, baud: int, servo_id: int, new_baud: int) -> bool:
    """Move servo `servo_id` to `new_baud` (torque goes off); True if it answers there."""
    new_baud = parse_baud(new_baud)
    with open_client(port, baud) as client:
        client.write_item(servo_id, "torque_enable", 0)  # the baud rate lives in EEPROM
        client.write_item(servo_id, "baud_rate", BAUD_INDEX[new_baud])
    with open_client(port, new_baud) as client:
        return client.ping(servo_id) is not None


def reboot(port: str, baud: int, servo_id: int) -> None:
    """Reboot one servo: it answers, restarts with torque off and its hardware errors clear."""
    with open_client(port, baud) as client:
        client.reboot(servo_id)


# `edgerun motors monitor`'s columns: (key, header) of `state_rows`.
STATE_COLUMNS = (
    ("id", "id"), ("position", "position rad"), ("velocity", "velocity rad/s"),
    ("current", "current A"), ("error", "error"),
)  # fmt: skip


def state_rows(state: JointState, ids: Sequence[int]) -> list[dict[str, str]]:
    """One row per servo of a joint state, formatted for a live table."""
    return [
        {
            "id": str(servo_id),
            "position": f"{state.positions_rad[k]:+.4f}",
            "velocity": f"{state.velocities_rad_s[k]:+.3f}",
            "current": f"{state.currents_a[k]:+.3f}",
            "error": state.errors.get(servo_id, ""),
        }
        for k, servo_id in enumerate(ids)
    ]
