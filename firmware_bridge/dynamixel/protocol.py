"""Dynamixel Protocol 2.0 framing: CRC-16, byte stuffing, packet encode, stream decode.

Pure functions over bytes (no I/O), so the driver and the simulated servos share one codec and
hypothesis can hammer it. A packet on the wire is

    FF FF FD 00 | ID | LEN_L LEN_H | INST | [ERR] params... | CRC_L CRC_H

LEN counts INST, params (after stuffing) and the CRC. The CRC is CRC-16/UMTS (poly 0x8005,
init 0, unreflected) over everything from the header to the last parameter, after stuffing.
Stuffing inserts FD after every FF FF FD inside INST..params so a receiver never mistakes data
for a header. Fast sync read answers (a status from the broadcast id) are the exception: each
servo appends its own block to one packet, and nothing in it is stuffed.
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass

import numpy as np

from firmware_bridge.errors import ProtocolError

HEADER = b"\xff\xff\xfd\x00"
BROADCAST_ID = 0xFE
MAX_ID = 252
STATUS = 0x55
# Longer than any packet this project sends or expects; a header announcing more is noise.
MAX_LENGTH = 1024


class Instruction(enum.IntEnum):
    PING = 0x01
    READ = 0x02
    WRITE = 0x03
    REG_WRITE = 0x04
    ACTION = 0x05
    FACTORY_RESET = 0x06
    REBOOT = 0x08
    CLEAR = 0x10
    STATUS = 0x55
    SYNC_READ = 0x82
    SYNC_WRITE = 0x83
    FAST_SYNC_READ = 0x8A
    BULK_READ = 0x92
    BULK_WRITE = 0x93
    FAST_BULK_READ = 0x9A


def _make_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return tuple(table)


_TABLE = _make_table()


def _make_table16() -> list[int]:
    """Two bytes per step: a 16-bit register fully shifts out in 16 bits, so the next CRC is
    T16[crc ^ next_word]. Halves the Python loop that dominates framing cost per period."""
    t8 = np.array(_TABLE, dtype=np.uint32)
    v = np.arange(65536, dtype=np.uint32)
    c1 = ((v << 8) & 0xFFFF) ^ t8[v >> 8]
    return (((c1 << 8) & 0xFFFF) ^ t8[c1 >> 8]).tolist()


_TABLE16 = _make_table16()
CRC_TABLE16 = _TABLE16  # for callers that fold two known bytes into a running CRC


def crc16(data: bytes | bytearray | memoryview, crc: int = 0) -> int:
    """CRC-16/UMTS (check value of b"123456789" is 0xFEE8). `crc` continues a running CRC."""
    table = _TABLE16
    n = len(data)
    half = n >> 1
    if half:
        for word in struct.unpack_from(f">{half}H", data):
            crc = table[crc ^ word]
    if n & 1:
        crc = ((crc << 8) & 0xFFFF) ^ _TABLE[(crc >> 8) ^ data[n - 1]]
    return crc


def stuff(body: bytes) -> bytes:
    """Insert FD after every FF FF FD in INST..params (the header bytes before stay as they are)."""
    if b"\xff\xff\xfd" not in body:
        return body  # the common case costs one scan
    out = bytearray()
    run = 0  # how much of FF FF FD the tail of `out` matches
    for byte in body:
        out.append(byte)
        if run == 2 and byte == 0xFD:
            out.append(0xFD)
            run = 0
        elif byte == 0xFF:
            run = 2 if run >= 1 else 1
        else:
            run = 0
    return bytes(out)


def unstuff(body: bytes) -> bytes:
    """Remove the FD inserted after every FF FF FD (inverse of `stuff`)."""
    if b"\xff\xff\xfd\xfd" not in body:
        return body
    out = bytearray()
    i = 0
    n = len(body)
    while i < n:
        out.append(body[i])
        stuffed = i >= 2 and body[i - 2] == 0xFF and body[i - 1] == 0xFF and i + 1 < n
        if stuffed and body[i] == 0xFD and body[i + 1] == 0xFD:
            i += 1  # skip the stuffing byte
        i += 1
    return bytes(out)


def encode(packet_id: int, instruction: int, params: bytes = b"", stuffed: bool = True) -> bytes:
    """One complete packet: header, id, length, instruction, params (stuffed) and CRC."""
    body = bytes((instruction,)) + params
    if stuffed:
        body = stuff(body)
    length = len(body) + 2
    frame = HEADER + bytes((packet_id, length & 0xFF, length >> 8)) + body
    crc = crc16(frame)
    return frame + bytes((crc & 0xFF, crc >> 8))


def encode_status(servo_id: int, error: int, params: bytes = b"") -> bytes:
    """A status packet as a servo sends it (used by the simulated chain)."""
    return encode(servo_id, STATUS, bytes((error,)) + params)


@dataclass(frozen=True)
class Packet:
    """A decoded packet. For a status, `error` is the ERR byte and `params` follow it."""

    id: int
    instruction: int
    params: bytes
    error: int = 0

    @property
    def is_status(self) -> bool:
        return self.instruction == STATUS


def decode_frame(frame: bytes) -> Packet:
    """Decode one complete packet (exactly one frame), or raise ProtocolError saying why."""
    if len(frame) < 10 or frame[:4] != HEADER:
        raise ProtocolError(f"not a Protocol 2.0 packet: {frame[:12].hex(' ')}")
    length = frame[5] | (frame[6] << 8)
    if length < 3 or len(frame) != 7 + length:
        raise ProtocolError(f"packet length field {length} does not match {len(frame)} bytes")
    crc = frame[-2] | (frame[-1] << 8)
    if crc16(frame[:-2]) != crc:
        raise ProtocolError(f"CRC mismatch in packet from id {frame[4]}")
    packet_id = frame[4]
    instruction = frame[7]
    body = bytes(frame[8:-2])
    fast_reply = instruction == STATUS and packet_id == BROADCAST_ID
    if not fast_reply:
        body = unstuff(bytes(frame[7:-2]))[1:]
    if instruction == STATUS:
        if not body:
            raise ProtocolError(f"status packet from id {packet_id} has no error byte")
        return Packet(packet_id, instruction, body[1:], body[0])
    return Packet(packet_id, instruction, body)


class PacketStream:
    """Incremental decoder for a noisy byte stream, with header resynchronisation.

    `feed()` bytes as they arrive and `next()` returns whole packets in order. A bad CRC or an
    impossible length drops one byte and searches for the next header, so one corrupted byte
    costs one packet, never the stream. Counters say what was thrown away.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.crc_errors = 0
        self.discarded_bytes = 0

    def feed(self, data: bytes) -> None:
        self._buf += data

    def clear(self) -> None:
        self.discarded_bytes += len(self._buf)
        self._buf.clear()

    @property
    def pending(self) -> int:
        return len(self._buf)

    def needed(self) -> int:
        """Bytes still missing from the packet at the front (a lower bound, at least 1)."""
        buf = self._buf
        if len(buf) >= 7 and buf[:4] == HEADER:
            return max(1, 7 + (buf[5] | (buf[6] << 8)) - len(buf))
        return max(1, 10 - len(buf))

    def next(self) -> Packet | None:
        """The next complete valid packet, or None until more bytes arrive."""
        buf = self._buf
        while True:
            start = buf.find(HEADER)
            if start < 0:
                # Keep a possible partial header (up to 3 bytes) at the end.
                keep = 0
                for k in (3, 2, 1):
                    if buf.endswith(HEADER[:k]):
                        keep = k
                        break
                self.discarded_bytes += len(buf) - keep
                del buf[: len(buf) - keep]
                return None
            if start:
                self.discarded_bytes += start
                del buf[:start]
            if len(buf) < 7:
                return None
            length = buf[5] | (buf[6] << 8)
            if length < 3 or length > MAX_LENGTH:
                self.discarded_bytes += 1
                del buf[:1]
                continue
            total = 7 + length
            if len(buf) < total:
                return None
            frame = bytes(buf[:total])
            try:
                packet = decode_frame(frame)
            except ProtocolError:
                self.crc_errors += 1
                self.discarded_bytes += 1
                del buf[:1]
                continue
            del buf[:total]
            return packet
