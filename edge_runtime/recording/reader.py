"""`LogReader`: every intact record of an episode log, and an honest report of what was not.

A log is a directory of segments (or one segment file). Reading never raises on damage: a
damaged span (flipped bytes, a torn tail) is skipped, the scan resynchronises on the next
intact record (`framing`), and the span is reported: segment, byte offset, bytes skipped,
records lost, why. What does raise, as one sentence, is a path that is not a log, a file
that is not an episode log, or one from a newer format version.

Segments are memory-mapped, not read: a 512 MiB segment costs no RAM up front on a robot.
"""

from __future__ import annotations

import contextlib
import mmap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge_runtime.recording.format import (
    FORMAT_VERSION,
    MAGIC,
    SYNC,
    V1_PREFIX,
    LogError,
)
from edge_runtime.recording.framing import Buffer, Damage, DamageTotals, ScanState, scan


@dataclass
class SegmentReport(DamageTotals):
    path: Path
    size: int
    records: int = 0  # intact records, the segment's header not counted
    damage: list[Damage] = field(default_factory=list)
    version: int | None = None  # from the segment's header; None when the header was lost


@dataclass
class ReadReport(DamageTotals):
    segments: list[SegmentReport] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(s.records for s in self.segments)

    @property
    def damage(self) -> list[Damage]:  # type: ignore[override]
        return [d for s in self.segments for d in s.damage]

    @property
    def corrupt_tail(self) -> bool:
        """Any damage at all (the name predates resynchronisation; `log info` keeps it)."""
        return bool(self.damage)

    def problems(self) -> list[str]:
        """One sentence per damaged span: where, why, and what it cost."""
        return [
            f"{s.path.name}: {d.reason} at byte {d.offset}: skipped {d.size} bytes, "
            f"{d.records} record(s) lost"
            for s in self.segments
            for d in s.damage
        ]


def segment_paths(path: str | Path) -> list[Path]:
    """The segment files of a log given as a directory or as one segment file."""
    path = Path(path)
    if path.is_dir():
        segments = sorted(path.glob("episode-*.erlog"))
        if not segments:
            raise LogError(f"{path} holds no episode-*.erlog files; pass a directory from --record")
        return segments
    if path.is_file():
        return [path]
    raise LogError(f"episode log {path} does not exist; pass the directory given to --record")


def _framing_version(buf: Buffer, size: int) -> int:
    """Version 2 when the first record carries a sync marker, 1 when it is a version 1 header.

    Anything else is a damaged start: only version 2 can be read past it, so guess that.
    """
    start = len(MAGIC)
    if buf[start : start + len(SYNC)] == SYNC:
        return 2
    if size - start >= V1_PREFIX.size:
        length, _crc = V1_PREFIX.unpack_from(buf, start)
        if length <= size - start - V1_PREFIX.size:
            state = ScanState()
            first = next(scan(buf, start, start + V1_PREFIX.size + length, state, 1), None)
            if first is not None and first.get("k") == "header":
                return 1
    return 2


def read_segment(buf: Buffer, report: SegmentReport) -> Iterator[dict[str, Any]]:
    """The records of one segment's bytes, header first if it survived; `report` fills in.

    Raises `LogError` only for bytes that are not an episode log at all, or a header from a
    newer format version; damage is skipped and reported.
    """
    size = report.size
    start = len(MAGIC)
    state = ScanState(offset=start)
    if buf[:start] != MAGIC:
        resume = buf.find(SYNC)
        if resume < 0 or not _holds_a_record(buf, resume, size):
            raise LogError(f"{report.path} is not an edge-runtime episode log (bad magic bytes)")
        state.damage.append(Damage(0, start, "damaged magic bytes", 0))
    version = _framing_version(buf, size)
    records = scan(buf, start, size, state, version)
    report.damage = state.damage
    try:
        for record in records:
            if state.records == 1 and record.get("k") == "header" and state.next_seq <= 1:
                report.version = _check_version(report.path, record)
            report.records = state.records - (report.version is not None)  # data records
            yield record
    finally:
        records.close()


def _holds_a_record(buf: Buffer, at: int, size: int) -> bool:
    state = ScanState()
    return next(scan(buf, at, size, state), None) is not None


def _check_version(path: Path, header: dict[str, Any]) -> int:
    version = header.get("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise LogError(
            f"{path} has a header without a format version; it was not written by edgerun"
        )
    if version > FORMAT_VERSION:
        raise LogError(
            f"{path} is format version {version}, newer than this edgerun reads "
            f"({FORMAT_VERSION}); upgrade edge-runtime to read it"
        )
    return version


@contextlib.contextmanager
def _mapped(path: Path) -> Iterator[tuple[Buffer, int]]:
    """The bytes of `path` as a read-only memory map (b"" for an empty file), and its size."""
    with open(path, "rb") as stream:
        size = stream.seek(0, 2)
        if size == 0:
            yield b"", 0
            return
        mapped = mmap.mmap(stream.fileno(), size, access=mmap.ACCESS_READ)
        try:
            yield mapped, size
        finally:
            with contextlib.suppress(BufferError):  # a view still held: the GC closes it
                mapped.close()


class LogReader:
    """Iterate records (header records are kept in `headers`); `report` fills as you go."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.segments = segment_paths(path)
        self.report = ReadReport()
        self.headers: list[dict[str, Any]] = []
        self._check_first_header()

    def _check_first_header(self) -> None:
        # Read the first segment's head now so "not a log" and "newer version" fail before
        # any work (the header is the first record; damage before it is read past).
        with _mapped(self.segments[0]) as (buf, size):
            records = read_segment(buf, SegmentReport(self.segments[0], size))
            try:
                next(records, None)
            finally:
                records.close()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        self.report = ReadReport()
        self.headers = []
        for path in self.segments:
            with _mapped(path) as (buf, size):
                seg = SegmentReport(path, size)
                self.report.segments.append(seg)
                records = read_segment(buf, seg)
                try:
                    yield from self._records_of(records)
                except LogError as exc:
                    if path == self.segments[0] or "newer" in str(exc):
                        raise
                    seg.damage = [Damage(0, size, str(exc).split(" ", 1)[1], 0)]
                finally:
                    records.close()

    def _records_of(self, records: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for index, record in enumerate(records):
            if index == 0 and record.get("k") == "header":
                self.headers.append(record)
                continue
            yield record

    def read_all(self, kinds: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        return [r for r in self if kinds is None or r.get("k") in kinds]
