"""Instruction packets the host sends and the replies it decodes (pure, no I/O).

Builders return complete frames ready for one `write()`. Parsers take decoded `Packet`s and
raise `ProtocolError` for anything that does not fit what was asked, so a reply can never be
mistaken for another servo's or another address's data.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from firmware_bridge.dynamixel.protocol import (
    BROADCAST_ID,
    CRC_TABLE16,
    HEADER,
    STATUS,
    Instruction,
    Packet,
    crc16,
    encode,
)
from firmware_bridge.errors import ProtocolError

_ERROR_NAMES = {
    1: "result fail",
    2: "instruction error",
    3: "CRC error",
    4: "data range error",
    5: "data length error",
    6: "data limit error",
    7: "access error",
}
HARDWARE_ALERT = 0x80


def describe_error(error: int) -> str:
    """The status ERR byte as words: '' when clean, else e.g. 'access error + hardware alert'."""
    parts = []
    code = error & 0x7F
    if code:
        parts.append(_ERROR_NAMES.get(code, f"error code {code}"))
    if error & HARDWARE_ALERT:
        parts.append("hardware alert (read hardware_error_status)")
    return " + ".join(parts)


def _addr_len(address: int, length: int) -> bytes:
    return struct.pack("<HH", address, length)


def ping(servo_id: int) -> bytes:
    return encode(servo_id, Instruction.PING)


def read(servo_id: int, address: int, length: int) -> bytes:
    return encode(servo_id, Instruction.READ, _addr_len(address, length))


def write(servo_id: int, address: int, data: bytes) -> bytes:
    return encode(servo_id, Instruction.WRITE, struct.pack("<H", address) + data)


def reg_write(servo_id: int, address: int, data: bytes) -> bytes:
    return encode(servo_id, Instruction.REG_WRITE, struct.pack("<H", address) + data)


def action(servo_id: int = BROADCAST_ID) -> bytes:
    return encode(servo_id, Instruction.ACTION)


def reboot(servo_id: int) -> bytes:
    return encode(servo_id, Instruction.REBOOT)


def factory_reset(servo_id: int, option: int = 0x02) -> bytes:
    """Option 0xFF resets everything, 0x01 all but the id, 0x02 all but id and baud rate."""
    return encode(servo_id, Instruction.FACTORY_RESET, bytes((option,)))


def clear_multi_turn(servo_id: int) -> bytes:
    return encode(servo_id, Instruction.CLEAR, b"\x01\x44\x58\x4c\x22")


def sync_read(address: int, length: int, ids: Sequence[int], fast: bool = False) -> bytes:
    inst = Instruction.FAST_SYNC_READ if fast else Instruction.SYNC_READ
    return encode(BROADCAST_ID, inst, _addr_len(address, length) + bytes(ids))


def sync_write(address: int, length: int, data: Mapping[int, bytes]) -> bytes:
    params = bytearray(_addr_len(address, length))
    for servo_id, value in data.items():
        if len(value) != length:
            raise ValueError(f"sync write of {length} bytes got {len(value)} for id {servo_id}")
        params.append(servo_id)
        params += value
    return encode(BROADCAST_ID, Instruction.SYNC_WRITE, bytes(params))


class SyncWriteEncoder:
    """Sync write of one signed 4-byte item (goal position) for fixed ids, built fast.

    The id/value records live in one numpy array, so a control period costs one assignment,
    one `tobytes` and one CRC, with no Python loop over servos.
    """

    def __init__(self, address: int, ids: Sequence[int]) -> None:
        self.ids = list(ids)
        self._prefix = _addr_len(address, 4)
        self._records = np.zeros(len(self.ids), dtype=[("id", "u1"), ("value", "<i4")])
        self._records["id"] = self.ids

    def encode(self, raw_values: Iterable[int]) -> bytes:
        return self.encode_array(np.fromiter(raw_values, dtype=np.int64, count=len(self.ids)))

    def encode_array(self, raw_values: np.ndarray) -> bytes:
        """`raw_values` must already fit int32 (the caller clips)."""
        self._records["value"] = raw_values
        params = self._prefix + self._records.tobytes()
        return encode(BROADCAST_ID, Instruction.SYNC_WRITE, params)


def bulk_read(requests: Sequence[tuple[int, int, int]], fast: bool = False) -> bytes:
    """requests: (id, address, length) each."""
    params = b"".join(struct.pack("<BHH", i, a, n) for i, a, n in requests)
    inst = Instruction.FAST_BULK_READ if fast else Instruction.BULK_READ
    return encode(BROADCAST_ID, inst, params)


def bulk_write(requests: Sequence[tuple[int, int, bytes]]) -> bytes:
    """requests: (id, address, data) each."""
    params = b"".join(struct.pack("<BHH", i, a, len(d)) + d for i, a, d in requests)
    return encode(BROADCAST_ID, Instruction.BULK_WRITE, params)


def check_status(packet: Packet, servo_id: int, length: int | None = None) -> bytes:
    """Params of a status from `servo_id` (ERR checked by the caller); ProtocolError if it isn't."""
    if packet.instruction != STATUS:
        raise ProtocolError(f"expected a status packet, got instruction 0x{packet.instruction:02x}")
    if packet.id != servo_id:
        raise ProtocolError(f"expected a status from id {servo_id}, got one from id {packet.id}")
    if length is not None and len(packet.params) != length and not packet.error:
        raise ProtocolError(
            f"status from id {servo_id} carries {len(packet.params)} bytes, expected {length}"
        )
    return packet.params


def parse_ping(packet: Packet) -> tuple[int, int]:
    """(model number, firmware version) from a PING status."""
    if len(packet.params) != 3:
        raise ProtocolError(f"ping reply from id {packet.id} has {len(packet.params)} bytes, not 3")
    return packet.params[0] | (packet.params[1] << 8), packet.params[2]


def fast_sync_read_length(count: int, length: int) -> int:
    """Bytes on the wire of a fast sync read answer for `count` servos of `length` bytes each."""
    return 8 + count * (length + 4)


def parse_fast_sync_read(
    packet: Packet, ids: Sequence[int], length: int
) -> dict[int, tuple[int, bytes]]:
    """{id: (ERR, data)} from one fast sync read answer: blocks of ERR ID data CRC.

    The packet CRC (the last block's) covers every block and was checked by the decoder, so the
    inner CRCs (each servo's running CRC) are not re-checked: that costs CPU every period and
    would only add a way to disagree with some firmware about what they cover.
    """
    if packet.id != BROADCAST_ID or packet.instruction != STATUS:
        raise ProtocolError("a fast sync read answer comes as a status from the broadcast id")
    # The decoder split off the first ERR byte; put the blocks back together.
    body = bytes((packet.error,)) + packet.params
    block = length + 4
    if len(body) != block * len(ids) - 2:
        raise ProtocolError(
            f"fast sync read answer has {len(body) + 2} bytes of blocks, "
            f"expected {block * len(ids)} for {len(ids)} servos"
        )
    out: dict[int, tuple[int, bytes]] = {}
    for index, servo_id in enumerate(ids):
        start = index * block
        if body[start + 1] != servo_id:
            raise ProtocolError(
                f"fast sync read block {index} is from id {body[start + 1]}, expected {servo_id}"
            )
        out[servo_id] = (body[start], body[start + 2 : start + 2 + length])
    return out


def encode_fast_sync_reply(blocks: Sequence[tuple[int, int, bytes]]) -> bytes:
    """The answer a chain sends to a fast sync read: blocks (id, ERR, data), nothing stuffed.

    Each inner CRC is the running CRC of the packet so far, as each servo appends its block
    to the stream the previous one started. Used by the simulated chain and the tests.
    """
    length_field = 1 + sum(len(data) + 4 for _, _, data in blocks)
    out = bytearray(HEADER + bytes((BROADCAST_ID, length_field & 0xFF, length_field >> 8, STATUS)))
    crc = crc16(out)
    table = CRC_TABLE16
    for servo_id, error, data in blocks:
        chunk = bytes((error, servo_id)) + data
        crc = crc16(chunk, crc)
        out += chunk
        low, high = crc & 0xFF, crc >> 8
        out += bytes((low, high))
        crc = table[crc ^ ((low << 8) | high)]  # the CRC bytes themselves, in one step
    return bytes(out)
