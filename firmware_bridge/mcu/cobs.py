"""Consistent Overhead Byte Stuffing (COBS): bytes in, bytes out, no I/O.

COBS removes every 0x00 from a frame at a cost of one byte per 254 (plus one), so a single 0x00
can delimit frames on a UART. A receiver that loses bytes resynchronises at the next 0x00 and
loses at most the frame it was in, which is why the MCU link frames with it instead of a length
prefix (one corrupted length byte would desynchronise a length-prefixed stream for many frames).

Encoding follows Cheshire & Baker (1999) as on Wikipedia: a 254-byte run of non-zero bytes is
closed by a 0xFF code with no implied zero, and no empty block is emitted after a final 0xFF run.
"""

from __future__ import annotations

from firmware_bridge.errors import ProtocolError

MAX_BLOCK = 254  # non-zero bytes a code byte can announce


def encode(data: bytes) -> bytes:
    """COBS-encode `data` (without the 0x00 delimiter).

    The control loop encodes a frame every period, so the common case (no run of 254 non-zero
    bytes) copies the data once and overwrites each zero with the distance to the next one,
    taking the distances from `bytes.split` (C speed) rather than a Python loop over bytes.
    """
    out = bytearray(len(data) + 1)
    out[1:] = data
    at = 0
    for segment in data.split(b"\x00"):
        code = len(segment) + 1
        if code > MAX_BLOCK:
            return _encode_long_runs(data)
        out[at] = code
        at += code
    return bytes(out)


def _encode_long_runs(data: bytes) -> bytes:
    """The general case, with 0xFF blocks for runs of 254 non-zero bytes."""
    out = bytearray()
    segments = data.split(b"\x00")
    last = len(segments) - 1
    for index, segment in enumerate(segments):
        full = len(segment) // MAX_BLOCK
        for k in range(full):
            out.append(0xFF)
            out += segment[k * MAX_BLOCK : (k + 1) * MAX_BLOCK]
        rest = segment[full * MAX_BLOCK :]
        if rest or index < last or full == 0:  # no empty block after a final full run
            out.append(len(rest) + 1)
            out += rest
    return bytes(out)


def decode(data: bytes) -> bytes:
    """Undo `encode`; raises ProtocolError on a zero byte or a code running past the end."""
    n = len(data)
    if n == 0:
        raise ProtocolError("empty COBS frame")
    if 0 in data:
        raise ProtocolError(f"COBS frame has a zero byte at offset {data.index(0)}")
    if 0xFF in data:
        return _decode_with_full_blocks(data)
    out = bytearray(data)  # no 0xFF code: every code but the first stands for a zero
    at = data[0]
    while at < n:
        out[at] = 0
        at += data[at]
    if at > n:
        raise ProtocolError(f"a COBS code runs past the frame end ({n})")
    return bytes(out[1:])


def _decode_with_full_blocks(data: bytes) -> bytes:
    out = bytearray()
    i = 0
    n = len(data)
    while i < n:
        code = data[i]
        end = i + code
        if end > n:
            raise ProtocolError(f"COBS code {code} at offset {i} runs past the frame end ({n})")
        out += data[i + 1 : end]
        i = end
        if code != 0xFF and i < n:
            out.append(0)
    return bytes(out)


def max_encoded_len(length: int) -> int:
    """Worst-case encoded size of `length` bytes, without the delimiter."""
    return length + length // MAX_BLOCK + 1
