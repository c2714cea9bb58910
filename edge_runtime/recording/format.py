"""The episode log's bytes: magic, framed msgpack records with CRC32, numpy arrays.

Pure encoding, no I/O (the moteus rule): the writer and the reader both go through here, and
the property tests and fuzzers hit it directly. A segment file (format version 2) is

    MAGIC (8 bytes) | record | record | ...
    record = SYNC (4) | seq u32 LE | length u32 LE | crc32(payload) u32 LE
             | crc32(the 16 bytes before) u32 LE | payload (msgpack map)

Why each field: the sync marker is what a reader searches for after damage (a failing SD
card flips bytes anywhere, not only at the end); the header's own CRC lets it reject a
damaged length at once instead of trusting it; the payload CRC proves the record intact; the
sequence number (0 for the segment header, then 1, 2, ...) says exactly how many records a
damaged span cost. Version 1 (``length u32 | crc u32 | payload``, no marker) is still read,
up to its first damage; `framing` holds both scanners.

The first record of every segment is the header ``{"k": "header", "version": N, ...}``.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

import msgpack
import numpy as np

from edge_runtime.errors import EdgeRuntimeError

MAGIC = b"ERLOG\r\n\x1a"  # CR LF and ^Z catch text-mode mangling, as PNG's signature does
FORMAT_VERSION = 2
OLDEST_VERSION = 1  # the oldest format version this reader still reads
# High bytes, no ASCII, not a msgpack map or ext marker: rare inside payloads, and a false
# match still has to pass two CRCs before anything is believed.
SYNC = b"\xf3\x1e\xa5\x6b"
RECORD_HEAD = struct.Struct("<4sIIII")  # sync, seq, length, payload crc, head crc
HEAD_CRC_SPAN = RECORD_HEAD.size - 4
V1_PREFIX = struct.Struct("<II")  # version 1: length, payload crc
MAX_RECORD_BYTES = 64 * 1024 * 1024  # a 1280x720 raw RGB-D frame is 4.6 MB; beyond is garbage
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


def record_head(seq: int, payload: bytes) -> bytes:
    """The 20-byte frame head of `payload`, record number `seq` of its segment."""
    if len(payload) > MAX_RECORD_BYTES:
        raise ValueError(f"record of {len(payload)} bytes exceeds {MAX_RECORD_BYTES}")
    head = struct.pack("<4sIII", SYNC, seq & 0xFFFFFFFF, len(payload), zlib.crc32(payload))
    return head + struct.pack("<I", zlib.crc32(head))


def pack_parts(record: dict[str, Any], seq: int = 0) -> tuple[bytes, bytes]:
    """(head, payload) of one record: written one after the other, never concatenated.

    Concatenating would copy a frame's few hundred kilobytes while holding the GIL, which is
    time the control thread may be waiting for.
    """
    payload = msgpack.packb(record, default=msgpack_default, use_bin_type=True)
    return record_head(seq, payload), payload


def pack(record: dict[str, Any], seq: int = 0) -> bytes:
    """One framed record: head + msgpack payload."""
    head, payload = pack_parts(record, seq)
    return head + payload


def unpack_payload(payload: bytes | memoryview) -> dict[str, Any]:
    """The map a payload holds; ValueError (or msgpack's own errors) when it is not one."""
    record = msgpack.unpackb(payload, ext_hook=_ext_hook, raw=False, strict_map_key=False)
    if not isinstance(record, dict):
        raise ValueError("record is not a map")
    return record


def header_record(segment: int, meta: dict[str, Any]) -> dict[str, Any]:
    return {"k": "header", "version": FORMAT_VERSION, "segment": segment, "meta": meta}
