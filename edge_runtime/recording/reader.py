"""`LogReader`: every intact record of an episode log, and an honest report of what was not.

A log is a directory of segments (or one segment file). Reading never raises on damage: a
truncated or corrupted tail ends that segment's records and is reported (where, why, how many
bytes were lost); the next segment is still read. What does raise, as one sentence, is a path
that is not a log, a file that is not an episode log, or one from a newer format version.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge_runtime.recording.format import FORMAT_VERSION, MAGIC, LogError, ScanState, scan


@dataclass
class SegmentReport:
    path: Path
    size: int
    records: int = 0
    good_bytes: int = 0
    problem: str | None = None

    @property
    def lost_bytes(self) -> int:
        return self.size - self.good_bytes


@dataclass
class ReadReport:
    segments: list[SegmentReport] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(s.records for s in self.segments)

    @property
    def corrupt_tail(self) -> bool:
        return any(s.problem for s in self.segments)

    def problems(self) -> list[str]:
        return [
            f"{s.path.name}: {s.problem} at byte {s.good_bytes}, {s.lost_bytes} bytes "
            f"unreadable after {s.records} good records"
            for s in self.segments
            if s.problem
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


class LogReader:
    """Iterate records (header records are kept in `headers`); `report` fills as you go."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.segments = segment_paths(path)
        self.report = ReadReport()
        self.headers: list[dict[str, Any]] = []
        self._check_first_header()

    def _check_first_header(self) -> None:
        # Open the first segment now so "not a log" and "newer version" fail before any work.
        with open(self.segments[0], "rb") as stream:
            self._read_header(self.segments[0], stream, stream.seek(0, 2))

    def _read_header(self, path: Path, stream: Any, size: int) -> tuple[dict[str, Any], int]:
        stream.seek(0)
        if stream.read(len(MAGIC)) != MAGIC:
            raise LogError(f"{path} is not an edge-runtime episode log (bad magic bytes)")
        state = ScanState(offset=len(MAGIC))
        header = next(scan(stream, size, state), None)
        if header is None or header.get("k") != "header":
            raise LogError(f"{path} has a damaged header ({state.problem or 'not a header'})")
        version = header.get("version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise LogError(
                f"{path} is format version {version}, newer than this edgerun reads "
                f"({FORMAT_VERSION}); upgrade edge-runtime to read it"
            )
        return header, state.offset

    def __iter__(self) -> Iterator[dict[str, Any]]:
        self.report = ReadReport()
        self.headers = []
        for path in self.segments:
            with open(path, "rb") as stream:
                size = stream.seek(0, 2)
                seg = SegmentReport(path, size)
                self.report.segments.append(seg)
                try:
                    header, offset = self._read_header(path, stream, size)
                except LogError as exc:
                    if path == self.segments[0] or "newer" in str(exc):
                        raise
                    seg.problem = str(exc).split(" ", 1)[1]
                    continue
                self.headers.append(header)
                seg.good_bytes = offset
                state = ScanState(offset=offset)
                stream.seek(offset)
                for record in scan(stream, size, state):
                    seg.records = state.records
                    seg.good_bytes = state.offset
                    yield record
                seg.records, seg.good_bytes, seg.problem = (
                    state.records,
                    state.offset,
                    state.problem,
                )

    def read_all(self, kinds: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
        return [r for r in self if kinds is None or r.get("k") in kinds]
