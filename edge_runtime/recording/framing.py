"""Finding every intact record in a segment's bytes, across damage (format versions 1 and 2).

A failing SD card flips bytes anywhere; a power cut tears the end. Version 2 frames every
record with a sync marker, a sequence number and two CRCs (`format`), so after a damaged
record the scanner searches for the next marker whose head CRC holds and whose payload CRC
holds: a record is believed only if every byte of it is intact, and every record that is
intact is found again. Each damaged span is reported (offset, bytes, reason, records lost,
the last counted exactly from the sequence numbers). Version 1 has no marker to search for:
its scan ends at the first damage, as it always did.

Works on any buffer (bytes, or the reader's mmap of a segment), so the fuzzers and property
tests drive exactly the code the reader runs. Never raises on damage.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from edge_runtime.recording.format import (
    HEAD_CRC_SPAN,
    MAX_RECORD_BYTES,
    RECORD_HEAD,
    SYNC,
    V1_PREFIX,
    unpack_payload,
)

Buffer = Any  # bytes, bytearray or mmap: anything with .find() and the buffer protocol


@dataclass
class Damage:
    """One span of a segment that held no intact record."""

    offset: int
    size: int
    reason: str
    records: int = 0  # records lost in it


class DamageTotals:
    """`lost_bytes` and `lost_records` of anything holding a `damage` list."""

    damage: list[Damage]

    @property
    def lost_bytes(self) -> int:
        return sum(d.size for d in self.damage)

    @property
    def lost_records(self) -> int:
        return sum(d.records for d in self.damage)


@dataclass
class ScanState(DamageTotals):
    """How far a scan got: intact records, and the damaged spans in between (in order)."""

    offset: int = 0  # end of the last intact record
    start: int = 0  # where the last intact record began
    records: int = 0
    next_seq: int = 0
    damage: list[Damage] = field(default_factory=list)

    def _accept(self, start: int, end: int, seq: int | None) -> None:
        last = self.damage[-1] if self.damage else None
        follows_damage = last is not None and last.offset + last.size == start
        if follows_damage and seq is not None and seq > self.next_seq:
            last.records = seq - self.next_seq  # the sequence numbers count the loss exactly
        self.start, self.offset = start, end
        self.records += 1
        self.next_seq = (seq if seq is not None else self.next_seq) + 1

    def _skip(self, start: int, end: int, reason: str, records: int) -> None:
        """A damaged span and the records seen to start in it (exact once an intact record
        follows: `_accept` counts by sequence number; a lower bound at the end of the file)."""
        self.damage.append(Damage(start, end - start, reason, records))


def scan(buf: Buffer, start: int, end: int, state: ScanState, version: int = 2) -> Iterator[dict]:
    """Yield the intact records of `buf[start:end]` in order; `state` records the rest."""
    scanner = _scan_v1 if version == 1 else _scan_v2
    with memoryview(buf) as view:  # slices of a memoryview copy nothing
        yield from scanner(buf, view, start, end, state)


def head_at(view: memoryview, pos: int, end: int) -> tuple[int, int, int] | str:
    """(seq, length, payload crc) of an intact version-2 head at `pos`, or why there is none."""
    if end - pos < RECORD_HEAD.size:
        return f"truncated record head ({end - pos} bytes)"
    sync, seq, length, crc, head_crc = RECORD_HEAD.unpack_from(view, pos)
    if sync != SYNC:
        return "no sync marker"
    if zlib.crc32(view[pos : pos + HEAD_CRC_SPAN]) != head_crc:
        return "damaged record head"
    if length > MAX_RECORD_BYTES:  # a writer never frames one, so the head lies
        return f"impossible record length {length}"
    present = end - pos - RECORD_HEAD.size
    if length > present:
        return f"truncated record ({present} of {length} bytes present)"
    return seq, length, crc


def _decode(view: memoryview, pos: int, length: int, crc: int) -> dict | str:
    body = view[pos : pos + length]
    if zlib.crc32(body) != crc:
        return "CRC mismatch"
    try:
        return unpack_payload(body)
    except Exception as exc:  # CRC-valid but undecodable: a writer bug, or a forged record
        return f"undecodable record ({type(exc).__name__})"


def _scan_v2(
    buf: Buffer, view: memoryview, start: int, end: int, state: ScanState
) -> Iterator[dict]:
    pos = start
    while pos < end:
        head = head_at(view, pos, end)
        if isinstance(head, tuple):
            seq, length, crc = head
            record = _decode(view, pos + RECORD_HEAD.size, length, crc)
            if isinstance(record, dict):
                stop = pos + RECORD_HEAD.size + length
                state._accept(pos, stop, seq)
                yield record
                pos = stop
                continue
            reason = record
            after = pos + RECORD_HEAD.size + length  # its head is intact: so is its length
        else:
            reason, after = head, pos + 1
        resume, heads = _resync(buf, view, after, end)
        state._skip(pos, resume, reason, 1 + heads)  # the record at pos, and any after it
        pos = resume


def _resync(buf: Buffer, view: memoryview, pos: int, end: int) -> tuple[int, int]:
    """(offset of the next intact record at or after `pos`, else `end`; damaged heads passed).

    A candidate whose head is intact but whose payload is not is a damaged record: its
    length is believed (the head CRC holds) and the search goes on after it.
    """
    heads = 0
    while True:
        cand = buf.find(SYNC, pos, end)
        if cand < 0:
            return end, heads
        head = head_at(view, cand, end)
        if not isinstance(head, tuple):
            pos = cand + 1
            continue
        _seq, length, crc = head
        if isinstance(_decode(view, cand + RECORD_HEAD.size, length, crc), dict):
            return cand, heads
        heads += 1
        pos = cand + RECORD_HEAD.size + length


def _scan_v1(
    _buf: Buffer, view: memoryview, start: int, end: int, state: ScanState
) -> Iterator[dict]:
    """Version 1: length-prefixed records, no marker; ends at the first damage."""
    pos = start
    while pos < end:
        left = end - pos
        reason = ""
        if left < V1_PREFIX.size:
            reason = f"truncated record prefix ({left} bytes)"
        else:
            length, crc = V1_PREFIX.unpack_from(view, pos)
            if length > MAX_RECORD_BYTES:
                reason = f"impossible record length {length}"
            elif length > left - V1_PREFIX.size:
                reason = f"truncated record ({left - V1_PREFIX.size} of {length} bytes present)"
            else:
                record = _decode(view, pos + V1_PREFIX.size, length, crc)
                if isinstance(record, dict):
                    state._accept(pos, pos + V1_PREFIX.size + length, None)
                    yield record
                    pos += V1_PREFIX.size + length
                    continue
                reason = record
        state._skip(pos, end, f"{reason} (a version 1 log cannot resynchronise)", 1)
        return
