"""The two frames of a control period, precomputed: goal SYNC_WRITE out, FAST_SYNC_READ answer in.

Pure (no I/O), like `protocol` and `instructions`, and checked against them by property tests.
Why a module of its own: on a robot computer's slower cores the general codec's per-period
Python (a Packet object per answer, a numpy record array, byte concatenations, a stream that
searches for headers) cost more than the bus itself. For one fixed set of ids both frames
have a fixed layout, so:

- `GoalFrame` keeps the whole SYNC_WRITE in one bytearray: per period one `pack_into` of the
  12 values, and the CRC continued from the constant prefix's (precomputed) over the records.
  A frame that would need byte stuffing (only for absurd goals) returns None: the caller then
  uses the general encoder, which stuffs.
- `FastStateReply` checks an answer read into a preallocated buffer in bulk: the constant
  8-byte head, every block's id and ERR byte by strided slices (C speed), the packet CRC, then
  one `unpack_from` gives every servo's current, velocity and position. Anything unexpected
  returns False and the caller takes the general path, which names the problem.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from firmware_bridge.dynamixel.protocol import (
    BROADCAST_ID,
    HEADER,
    STATUS,
    Instruction,
    crc16,
)

STUFF_TRIGGER = b"\xff\xff\xfd"
BLOCK_OVERHEAD = 4  # ERR, ID before the data; the running CRC after it


class GoalFrame:
    """SYNC_WRITE of one signed 4-byte item (goal position) to fixed ids, as a template."""

    def __init__(self, address: int, ids: Sequence[int]) -> None:
        self.ids = tuple(int(i) for i in ids)
        n = len(self.ids)
        length = 1 + 4 + 5 * n + 2  # INST, address + size, records, CRC
        head = HEADER + bytes((BROADCAST_ID, length & 0xFF, length >> 8, Instruction.SYNC_WRITE))
        self._records_at = len(head) + 4
        self._frame = bytearray(head + struct.pack("<HH", address, 4) + bytes(5 * n + 2))
        self._crc_at = len(self._frame) - 2
        self._records = struct.Struct("<" + "Bi" * n)
        self._args: list[int] = [v for i in self.ids for v in (i, 0)]
        self._records.pack_into(self._frame, self._records_at, *self._args)  # ids in place
        self._prefix_crc = crc16(self._frame[: self._records_at])

    def encode(self, ticks: Sequence[int]) -> bytearray | None:
        """The frame for these raw goals (int32 each), or None if it would need stuffing.

        Returns the template itself, valid until the next call (write it at once). Raises
        `struct.error` for a value outside int32 (the caller clips).
        """
        args = self._args
        args[1::2] = ticks
        frame = self._frame
        self._records.pack_into(frame, self._records_at, *args)
        if frame.find(STUFF_TRIGGER, 7, self._crc_at) >= 0:
            return None
        crc = crc16(memoryview(frame)[self._records_at : self._crc_at], self._prefix_crc)
        frame[self._crc_at] = crc & 0xFF
        frame[self._crc_at + 1] = crc >> 8
        return frame


class FastStateReply:
    """The answer to a FAST_SYNC_READ of `length` bytes from fixed ids, checked in bulk."""

    def __init__(self, ids: Sequence[int], length: int, fields: str) -> None:
        """`fields`: struct codes of the data of one block, e.g. "hii" for 126..135."""
        self.ids = bytes(int(i) for i in ids)
        n = len(self.ids)
        block = length + BLOCK_OVERHEAD
        if struct.calcsize("<" + fields) != length:
            raise ValueError(f"fields {fields!r} do not cover {length} bytes")
        length_field = 1 + block * n
        self.size = 8 + block * n  # header, id, length, instruction, then the blocks
        self._head = HEADER + bytes((BROADCAST_ID, length_field & 0xFF, length_field >> 8, STATUS))
        self._block = block
        self._head_crc = crc16(self._head)  # the constant head's CRC, continued per answer
        self._no_errors = bytes(n)
        self._values = struct.Struct("<" + f"2x{fields}2x" * n)

    def new_buffer(self) -> bytearray:
        return bytearray(self.size)

    def valid(self, answer: bytearray) -> bool:
        """Head, ids in order and the packet CRC all as expected (ERR bytes not looked at)."""
        end = self.size
        if answer[:8] != self._head or answer[9 : end : self._block] != self.ids:
            return False
        crc = answer[end - 2] | (answer[end - 1] << 8)
        return crc16(memoryview(answer)[8 : end - 2], self._head_crc) == crc

    def has_errors(self, answer: bytearray) -> bool:
        """Any servo's ERR byte set (an alert or a refused read): let the general path name it."""
        return answer[8 : self.size : self._block] != self._no_errors

    def values(self, answer: bytearray) -> tuple[int, ...]:
        """Every servo's fields, servo after servo (for "hii": current, velocity, position)."""
        return self._values.unpack_from(answer, 8)
