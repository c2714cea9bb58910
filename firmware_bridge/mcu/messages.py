"""Message types and payload schemas of the MCU link, and the schema hash both sides compare.

Payloads are msgpack maps with short string keys. A receiver checks the required keys of the
type and ignores keys it does not know, so a minor version may add optional keys without
breaking older peers. The schema hash covers the required keys and kinds only: a minor bump
never changes it, and a mismatch with equal major versions means one side was built from an
edited schema without a major bump, which is exactly the case both sides must refuse
(MAVLink's CRC_EXTRA idea). Pure: bytes in, dicts or a `ProtocolError` out.
"""

from __future__ import annotations

import enum
import math
import zlib
from typing import Any

import msgpack

from firmware_bridge.errors import ProtocolError

PROTOCOL_MAJOR = 1
PROTOCOL_MINOR = 0


class MsgType(enum.IntEnum):
    # host -> MCU
    HELLO = 0x01
    ENABLE = 0x02
    DISABLE = 0x03
    COMMAND = 0x04
    HEARTBEAT = 0x05
    STATE_REQ = 0x06
    CLEAR = 0x07
    ESTOP = 0x0F
    # MCU -> host
    HELLO_ACK = 0x81
    ACK = 0x82
    TELEMETRY = 0x83
    FAULT = 0x84


class Status(enum.IntEnum):
    """`ACK.code`: why the MCU did (not) apply a frame."""

    OK = 0
    NOT_ARMED = 1
    FAULT_LATCHED = 2
    INCOMPATIBLE = 3
    BAD_PAYLOAD = 4
    UNKNOWN_TYPE = 5


class McuState(enum.IntEnum):
    IDLE = 0  # torque off, watchdog disarmed
    ARMED = 1  # torque on, watchdog armed
    FAULT = 2  # torque off, latched until CLEAR


class Fault(enum.IntEnum):
    NONE = 0
    WATCHDOG = 1
    ESTOP = 2


# Required keys per type: key -> kind. Kinds: uint, str, floats (list of numbers), uints.
SCHEMA: dict[MsgType, dict[str, str]] = {
    MsgType.HELLO: {"major": "uint", "minor": "uint", "schema": "uint"},
    MsgType.ENABLE: {},
    MsgType.DISABLE: {},
    MsgType.COMMAND: {"goal": "floats"},
    MsgType.HEARTBEAT: {},
    MsgType.STATE_REQ: {},
    MsgType.CLEAR: {},
    MsgType.ESTOP: {},
    MsgType.HELLO_ACK: {
        "echo": "uint",
        "major": "uint",
        "minor": "uint",
        "schema": "uint",
        "firmware": "str",
        "motors": "uint",
        "period_us": "uint",
        "watchdog_periods": "uint",
    },
    MsgType.ACK: {"echo": "uint", "code": "uint"},
    MsgType.TELEMETRY: {
        "echo": "uint",
        "state": "uint",
        "fault": "uint",
        "applied": "uint",
        "pos": "floats",
        "vel": "floats",
        "cur": "floats",
        "err": "uints",
    },
    MsgType.FAULT: {"state": "uint", "fault": "uint"},
}


def schema_text(schema: dict[MsgType, dict[str, str]] = SCHEMA) -> str:
    """Canonical text the hash is taken over; firmware authors can print and diff it."""
    parts = [f"mcu-link/{PROTOCOL_MAJOR}"]
    for msg_type in sorted(schema):
        keys = ",".join(f"{k}:{v}" for k, v in sorted(schema[msg_type].items()))
        parts.append(f"{int(msg_type):02x}{{{keys}}}")
    return ";".join(parts)


def schema_hash(schema: dict[MsgType, dict[str, str]] = SCHEMA) -> int:
    return zlib.crc32(schema_text(schema).encode("ascii"))


SCHEMA_HASH = schema_hash()
MAX_ITEMS = 256  # no list or map in a legal payload is longer


def encode(msg_type: MsgType, body: dict[str, Any] | None = None) -> bytes:
    """Payload dict -> msgpack. Floats go as float32: 1e-7 rad is far below any encoder."""
    body = body or {}
    missing = SCHEMA[msg_type].keys() - body.keys()
    if missing:
        raise ValueError(f"{msg_type.name} payload lacks required keys {sorted(missing)}")
    return msgpack.packb(body, use_single_float=True)


def _refuse_ext(code: int, data: bytes) -> Any:
    raise ValueError(f"msgpack extension type {code} is not part of the MCU link")


def decode(msg_type: int, payload: bytes) -> dict[str, Any]:
    """msgpack -> dict whose required keys have the right kinds, or ProtocolError."""
    try:
        kind_of = SCHEMA[MsgType(msg_type)]
    except ValueError:
        raise ProtocolError(f"unknown MCU link message type 0x{msg_type:02x}") from None
    name = MsgType(msg_type).name
    try:
        body = msgpack.unpackb(
            payload,
            raw=False,
            strict_map_key=True,
            ext_hook=_refuse_ext,
            max_str_len=MAX_ITEMS,
            max_bin_len=MAX_ITEMS,
            max_array_len=MAX_ITEMS,
            max_map_len=MAX_ITEMS,
            max_ext_len=0,
        )
    except Exception as exc:  # msgpack raises a zoo of types on garbage; all mean "bad payload"
        raise ProtocolError(f"{name} payload is not valid msgpack ({exc})") from exc
    if not isinstance(body, dict):
        raise ProtocolError(f"{name} payload is a {type(body).__name__}, expected a map")
    for key, kind in kind_of.items():
        if key not in body:
            raise ProtocolError(f"{name} payload lacks required key '{key}'")
        body[key] = _check(name, key, kind, body[key])
    return body


def _check(name: str, key: str, kind: str, value: Any) -> Any:
    ok = True
    if kind == "uint":
        ok = type(value) is int and 0 <= value < 1 << 32
    elif kind == "str":
        ok = isinstance(value, str)
    elif kind == "floats":
        ok = isinstance(value, list) and all(type(v) in (int, float) for v in value)
        if ok:
            value = [float(v) for v in value]
    elif kind == "uints":
        ok = isinstance(value, list) and all(type(v) is int and 0 <= v < 1 << 32 for v in value)
    if not ok:
        raise ProtocolError(f"{name} key '{key}' is {value!r:.60}, expected {kind}")
    return value


def all_finite(values: list[float]) -> bool:
    return all(math.isfinite(v) for v in values)
