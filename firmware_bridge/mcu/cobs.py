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
    """COBS-encode `data` (without the 0x00 delimiter)."""
    out = bytearray(b"\x00")
    code_at = 0
    code = 1
    remaining = len(data)
    for byte in data:
        remaining -= 1
        if byte:
            out.append(byte)
            code += 1
        if not byte or code == 0xFF:
            out[code_at] = code
            code = 1
            if not byte or remaining:
                code_at = len(out)
                out.append(0)
            else:
                return bytes(out)  # ended on a full 254-byte run: no empty block after it
    out[code_at] = code
    return bytes(out)


def decode(data: bytes) -> bytes:
    """Undo `encode`; raises ProtocolError on a zero byte or a code running past the end."""
    out = bytearray()
    i = 0
    n = len(data)
    if n == 0:
        raise ProtocolError("empty COBS frame")
    while i < n:
        code = data[i]
        if code == 0:
            raise ProtocolError(f"COBS frame has a zero byte at offset {i}")
        end = i + code
        if end > n:
            raise ProtocolError(f"COBS code {code} at offset {i} runs past the frame end ({n})")
        block = data[i + 1 : end]
        if 0 in block:
            raise ProtocolError(f"COBS frame has a zero byte inside the block at offset {i}")
        out += block
        i = end
        if code != 0xFF and i < n:
            out.append(0)
    return bytes(out)


def max_encoded_len(length: int) -> int:
    """Worst-case encoded size of `length` bytes, without the delimiter."""
    return length + length // MAX_BLOCK + 1
