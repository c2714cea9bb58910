"""MCU link frames: header + msgpack payload + CRC32, COBS-stuffed and 0x00-delimited.

Wire layout of one frame (all little-endian, see docs/mcu-link.md):

    COBS( version:u8 | type:u8 | seq:u16 | mcu_time_us:u32 | payload | crc32:u32 ) 0x00

The 8-byte header and the trailing CRC are frozen for every protocol version, so a receiver can
always read the version byte and refuse a peer with a clear message instead of misparsing it.
CRC32 is zlib's (IEEE 802.3, reflected, init and xor-out 0xFFFFFFFF; check value of
"123456789" is 0xCBF43926) over header and payload; both sides have it in a few lines of C.
Everything here is pure: bytes in, values or a `ProtocolError` out.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from firmware_bridge.errors import ProtocolError
from firmware_bridge.mcu import cobs

HEADER = struct.Struct("<BBHI")
CRC = struct.Struct("<I")
DELIMITER = b"\x00"
MAX_PAYLOAD = 1024  # bytes of msgpack: 64 motors of telemetry fit with room to spare
MAX_FRAME = HEADER.size + MAX_PAYLOAD + CRC.size
MAX_WIRE = cobs.max_encoded_len(MAX_FRAME) + 1
SEQ_MOD = 1 << 16
TIME_MOD = 1 << 32


@dataclass(frozen=True)
class Frame:
    """One decoded frame. `payload` is still msgpack: `messages.decode` validates it."""

    version: int
    msg_type: int
    seq: int
    mcu_time_us: int
    payload: bytes = b""


def encode(frame: Frame) -> bytes:
    """Frame -> bytes on the wire, delimiter included (one `write()` per frame)."""
    if len(frame.payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(frame.payload)} bytes exceeds {MAX_PAYLOAD}")
    body = (
        HEADER.pack(
            frame.version & 0xFF,
            frame.msg_type & 0xFF,
            frame.seq % SEQ_MOD,
            frame.mcu_time_us % TIME_MOD,
        )
        + frame.payload
    )
    return cobs.encode(body + CRC.pack(zlib.crc32(body))) + DELIMITER


def decode(stuffed: bytes) -> Frame:
    """One COBS-stuffed frame (without its delimiter) -> Frame, or ProtocolError."""
    if len(stuffed) > MAX_WIRE:
        raise ProtocolError(f"frame of {len(stuffed)} bytes exceeds the {MAX_WIRE}-byte maximum")
    raw = cobs.decode(stuffed)
    if len(raw) < HEADER.size + CRC.size:
        raise ProtocolError(f"frame of {len(raw)} bytes is shorter than header and CRC")
    body, (crc,) = raw[: -CRC.size], CRC.unpack(raw[-CRC.size :])
    if zlib.crc32(body) != crc:
        raise ProtocolError(f"CRC mismatch in a {len(raw)}-byte frame")
    version, msg_type, seq, mcu_time_us = HEADER.unpack_from(body)
    return Frame(version, msg_type, seq, mcu_time_us, bytes(body[HEADER.size :]))


class FrameReader:
    """Cuts a byte stream at 0x00 delimiters and decodes each frame.

    Feed it whatever `read()` returned; it yields a `Frame` or a `ProtocolError` per frame, so
    a caller can count bad frames without try/except around the loop. A run longer than the
    largest legal frame is dropped at once (noise with no delimiter must not grow the buffer).
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._overflowed = False

    def feed(self, data: bytes) -> Iterator[Frame | ProtocolError]:
        self._buf += data
        while True:
            end = self._buf.find(0)
            if end < 0:
                if len(self._buf) > MAX_WIRE:
                    self._buf.clear()
                    if not self._overflowed:
                        self._overflowed = True
                        yield ProtocolError(f"no frame delimiter within {MAX_WIRE} bytes")
                return
            chunk = bytes(self._buf[:end])
            del self._buf[: end + 1]
            if self._overflowed:  # the tail of an oversized run: already reported
                self._overflowed = False
                continue
            if not chunk:
                continue  # back-to-back delimiters are legal padding
            try:
                yield decode(chunk)
            except ProtocolError as exc:
                yield exc
