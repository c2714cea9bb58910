"""The episode log's bytes: magic, length-prefixed msgpack records with CRC32, numpy arrays.

Pure encoding, no I/O (the moteus rule): the writer and the reader both go through here, and
the property tests hit it directly. A segment file is

    MAGIC (8 bytes) | record | record | ...
    record = length u32 LE | crc32(payload) u32 LE | payload (msgpack map)

The first record of every segment is the header ``{"k": "header", "version": N, ...}``. A
length prefix plus a CRC means a reader knows exactly where a torn write (power cut, kill -9)
begins: everything before it is intact, everything after it is the tail to report.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

import msgpack
import numpy as np

from edge_runtime.errors import EdgeRuntimeError

MAGIC = b"ERLOG\r\n\x1a"  # CR LF and ^Z catch text-mode mangling, as PNG's signature does
FORMAT_VERSION = 1
PREFIX = struct.Struct("<II")
MAX_RECORD_BYTES = (
    64 * 1024 * 1024
)  # a 1280x720 raw RGB-D frame is 4.6 MB; anything huge is garbage
NDARRAY_EXT = 1


class LogError(EdgeRuntimeError):
    """An episode log is missing, unreadable, or from a newer format version."""


def msgpack_default(obj: Any) -> Any:
    """msgpack `default=` hook: numpy arrays as extension type 1, numpy scalars as numbers."""
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            # Object arrays would need pickle, which would make a log a code-execution vector.
            raise TypeError("object arrays cannot be recorded; convert to a numeric dtype")
        arr = np.ascontiguousarray(obj)
        body = msgpack.packb([arr.dtype.str, list(arr.shape), arr.tobytes()])
        return msgpack.ExtType(NDARRAY_EXT, body)
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"cannot record a {type(obj).__name__}")


def _ext_hook(code: int, data: bytes) -> Any:
    if code == NDARRAY_EXT:
        dtype, shape, raw = msgpack.unpackb(data)
        return np.frombuffer(raw, dtype=np.dtype(dtype)).reshape(shape)
    return msgpack.ExtType(code, data)


def pack_parts(record: dict[str, Any]) -> tuple[bytes, bytes]:
    """(prefix, payload) of one record: written one after the other, never concatenated.

    Concatenating would copy a frame's few hundred kilobytes while holding the GIL, which is
    time the control thread may be waiting for.
    """
    payload = msgpack.packb(record, default=msgpack_default, use_bin_type=True)
    if len(payload) > MAX_RECORD_BYTES:
        raise ValueError(f"record of {len(payload)} bytes exceeds {MAX_RECORD_BYTES}")
    return PREFIX.pack(len(payload), zlib.crc32(payload)), payload


def pack(record: dict[str, Any]) -> bytes:
    """One framed record: prefix + msgpack payload."""
    prefix, payload = pack_parts(record)
    return prefix + payload


def unpack_payload(payload: bytes) -> dict[str, Any]:
    record = msgpack.unpackb(payload, ext_hook=_ext_hook, raw=False, strict_map_key=False)
    if not isinstance(record, dict):
        raise ValueError("record is not a map")
    return record


def header_record(segment: int, meta: dict[str, Any]) -> dict[str, Any]:
    return {"k": "header", "version": FORMAT_VERSION, "segment": segment, "meta": meta}


@dataclass
class ScanState:
    """Where a scan stopped and why (`problem` is None for a clean end)."""

    offset: int = 0
    records: int = 0
    problem: str | None = None


def scan(stream: BinaryIO, size: int, state: ScanState) -> Iterator[dict[str, Any]]:
    """Yield records from `stream` (positioned at `state.offset`) until the end or damage.

    Never raises on damage: a short prefix, an impossible length, a CRC mismatch or a payload
    that is not a msgpack map ends the scan with `state.problem` saying which, and
    `state.offset` pointing at the first byte that could not be used.
    """
    while state.offset < size:
        left = size - state.offset
        if left < PREFIX.size:
            state.problem = f"truncated record prefix ({left} bytes)"
            return
        length, crc = PREFIX.unpack(stream.read(PREFIX.size))
        if length > MAX_RECORD_BYTES:
            state.problem = f"impossible record length {length}"
            return
        if length > left - PREFIX.size:
            state.problem = f"truncated record ({left - PREFIX.size} of {length} bytes present)"
            return
        payload = stream.read(length)
        if zlib.crc32(payload) != crc:
            state.problem = "CRC mismatch"
            return
        try:
            record = unpack_payload(payload)
        except Exception as exc:  # CRC-valid but undecodable: a writer bug, not damage
            state.problem = f"undecodable record ({exc})"
            return
        state.offset += PREFIX.size + length
        state.records += 1
        yield record
