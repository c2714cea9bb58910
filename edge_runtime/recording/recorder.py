"""`EpisodeRecorder`: the flight recorder, a `LoopObserver` the runtime attaches for --record.

Every hook only hands its object to the writer's bounded lanes and returns: no copy, no
encoding, no I/O on the control thread or the inference worker. The arrays handed over must
not be changed afterwards (the runtime creates fresh ones every tick and every frame). When
the disk cannot keep up the lanes drop (bounded memory) and every drop becomes a `drops`
record in the log and a warning, never silence.

`process=True` (default): a forwarding thread passes records and frame pixels to a child
process that compresses and writes (`process_writer`); `process=False`: one writer thread
here does it all. The benchmark that
chose the default is in docs/perf/recording.md.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from edge_runtime import __version__
from edge_runtime.loop.clock import Clock, MonotonicClock
from edge_runtime.pipeline.observer import ActionChunk, LoopObserver, TickRecord
from edge_runtime.recording.identity import wall_anchor_ns
from edge_runtime.recording.process_writer import FRAME_REF, ProcessLogWriter
from edge_runtime.recording.records import (
    chunk_to_record,
    event_record,
    frame_to_record,
    tick_to_record,
)
from edge_runtime.recording.writer import LogWriter
from edge_runtime.sensors.base import Frame
from edge_runtime.sensors.frame_set import FrameSet

log = logging.getLogger(__name__)


class EpisodeRecorder(LoopObserver):
    """Record ticks, frames, chunks and events of one run into `directory`."""

    def __init__(
        self,
        directory: str | Path,
        *,
        record_frames: bool = True,
        color_codec: str = "jpeg",
        jpeg_quality: int = 90,
        depth_codec: str = "zlib-delta",
        sync_interval_s: float = 0.2,
        max_segment_bytes: int = 512 * 1024 * 1024,
        frame_queue: int = 16,
        record_queue: int = 16384,
        meta: dict[str, Any] | None = None,
        process: bool = True,
        clock: Clock | None = None,
        identity: dict[str, Any] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.clock: Clock = clock if clock is not None else MonotonicClock()  # record stamps
        self.record_frames = record_frames
        self.identity = dict(identity or {})  # what ran: goes into the start record
        self.process = process
        self._codecs = (color_codec, jpeg_quality, depth_codec)
        lanes = {"record": record_queue, "frame": frame_queue}  # small records first
        common: dict[str, Any] = {
            "lanes": lanes,
            "sync_interval_s": sync_interval_s,
            "max_segment_bytes": max_segment_bytes,
            "meta": {"edgerun": __version__, **(meta or {})},
        }
        self._writer: LogWriter
        if process:
            options = {
                "color_codec": color_codec,
                "jpeg_quality": jpeg_quality,
                "depth_codec": depth_codec,
                "lanes": lanes,
            }
            self._writer = ProcessLogWriter(self.directory, self._forward, options, **common)
        else:
            self._writer = LogWriter(self.directory, self._encode, **common)
        self._started = False

    def start(self) -> None:
        """Create the log directory and start the writer; idempotent.

        Call it before the run (``with EpisodeRecorder(DIR) as rec:`` does) so an unusable
        directory is one sentence at startup (`LogError`), not an observer error logged once
        the robot moves.
        """
        if not self._started:
            self._writer.start()
            self._started = True

    def close(self) -> None:
        """Finish the log if the run did not (`on_stop` never came); idempotent."""
        self.on_stop()

    def __enter__(self) -> EpisodeRecorder:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- LoopObserver hooks (called from the runtime's threads) -------------------------
    def on_start(self, joint_names: list[str], period_s: float) -> None:
        self.start()
        start = {"k": "start", "joints": list(joint_names), "period_s": period_s, **self.identity}
        # The wall-clock anchor beside the monotonic stamp: both read at the same moment.
        stamps = {"t_ns": self.clock.now_ns(), "wall_ns": wall_anchor_ns()}
        self._writer.submit("record", "raw", {**start, **stamps})

    def on_tick(self, record: TickRecord) -> None:
        self._writer.submit("record", "tick", record)

    def on_frame(self, frame: Frame) -> None:
        if not self.record_frames:
            return
        self._writer.submit("frame", "frame", frame)  # a set's own record: the primary's
        if isinstance(frame, FrameSet):  # then every other camera's, right behind it
            for member in frame.cameras.values():
                if member.camera != frame.camera:
                    self._writer.submit("frame", "frame", member)

    def on_chunk(self, chunk: ActionChunk) -> None:
        self._writer.submit("record", "chunk", (chunk, self.clock.now_ns()))

    def on_event(self, kind: str, detail: str, stamp_ns: int) -> None:
        self._writer.submit("record", "raw", event_record(kind, detail, stamp_ns))

    def on_stop(self) -> None:
        if not self._started:
            return
        stop = {"k": "stop", "t_ns": self.clock.now_ns(), "dropped": dict(self._writer.dropped)}
        self._writer.close(final=stop)
        self._started = False
        if any(self._writer.dropped.values()):
            log.warning("recorder: dropped %s while recording %s", self.dropped, self.directory)
        if self._writer.error:
            log.error("recorder: %s is incomplete: %s", self.directory, self._writer.error)

    # -- status ---------------------------------------------------------------------------
    @property
    def dropped(self) -> dict[str, int]:
        return dict(self._writer.dropped)

    @property
    def error(self) -> str | None:
        return self._writer.error

    @property
    def writer(self) -> LogWriter:
        return self._writer

    # -- writer thread ----------------------------------------------------------------------
    def _forward(self, kind: str, item: Any) -> dict[str, Any]:
        """Process mode: only the cheap conversions here; the child compresses frames."""
        if kind == "frame":
            return {"k": FRAME_REF, "frame": item}
        return self._encode(kind, item)

    def _encode(self, kind: str, item: Any) -> dict[str, Any]:
        if kind == "tick":
            return tick_to_record(item)
        if kind == "frame":
            color_codec, quality, depth_codec = self._codecs
            return frame_to_record(item, color_codec, quality, depth_codec)
        if kind == "chunk":
            chunk, received_ns = item
            return chunk_to_record(chunk, received_ns)
        return item
