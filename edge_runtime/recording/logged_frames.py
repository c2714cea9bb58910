"""Frames back out of a log: a lone camera's frames, or a multi-camera robot's frame sets.

A lone camera's frame records carry no camera name (logs from before multi-camera robots
read the same way). On a multi-camera robot each frame set was logged as the primary
camera's record, which lists the set's cameras (`set`), followed by every other camera's
record (`cam`). `logged_frames` puts the sets back together so replay feeds a bundle exactly
what the robot's model saw; a set whose member the recorder had to drop is left out and
counted. Code that follows one image stream (the export grid, `log info`'s rates) reads the
primary records only: `is_primary_frame`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from edge_runtime.recording.records import frame_from_record
from edge_runtime.sensors.base import Frame
from edge_runtime.sensors.frame_set import FrameSet, spread_ms


def is_primary_frame(rec: dict[str, Any]) -> bool:
    """A frame record of the primary (or only) camera: the stream a single-camera reader wants."""
    return rec.get("k") == "frame" and ("cam" not in rec or "set" in rec)


@dataclass
class LoggedFrames:
    """Iterates a log's records into frames and frame sets; counts incomplete sets."""

    records: Iterable[dict[str, Any]]
    incomplete_sets: int = 0
    cameras: dict[str, int] = field(default_factory=dict)  # frame records per camera name

    def __iter__(self) -> Iterator[Frame]:
        pending: dict[str, Frame] = {}
        names: list[str] = []
        for rec in self.records:
            if rec.get("k") != "frame":
                continue
            name = rec.get("cam", "")
            self.cameras[name] = self.cameras.get(name, 0) + 1
            if not name:
                yield frame_from_record(rec)
                continue
            if "set" in rec:  # a new set starts: the previous one never completed
                self.incomplete_sets += bool(names)
                names, pending = list(rec["set"]), {name: frame_from_record(rec)}
            elif name in names and name not in pending:
                pending[name] = frame_from_record(rec)
            else:
                continue  # a member whose set's primary record was dropped
            if names and len(pending) == len(names):
                primary = next(iter(pending))
                frames = {n: pending[n] for n in names}
                yield FrameSet.of(frames, primary, spread_ms(list(frames.values())))
                names, pending = [], {}
        self.incomplete_sets += bool(names)
