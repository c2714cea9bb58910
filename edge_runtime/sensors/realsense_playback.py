"""Playback of RealSense recordings (.db3, older .bag) behind the `Camera` port.

`PlaybackReader` is the synchronous core (open, next frame, finished) used by `camera
check`, the benchmarks and replay; `PlaybackCamera` puts it behind the capture thread so the
runtime can drive a robot, or the simulator, from a recording. Frames go through the same
pairing filter and `rs.align` as the live camera's. `real_time=False` plays as fast as the
reader takes frames; `real_time=True` follows the wall-clock pace of the recording.
"""

from __future__ import annotations

import contextlib
import datetime
import gc
import time
from collections import Counter
from pathlib import Path
from typing import Any

from edge_runtime.errors import CameraError
from edge_runtime.loop.clock import Clock, MonotonicClock
from edge_runtime.sensors.base import Camera, Frame, Intrinsics
from edge_runtime.sensors.realsense_device import (
    FramesetConverter,
    describe_recording,
    import_rs,
    intrinsics_of,
    rgbd_problems,
)

SUFFIXES = (".db3", ".bag")


class PlaybackReader:
    """Frames of one recording, in order, without a thread. Context manager.

    Recordings come from many tools (librealsense, the Viewer, other firmware, rosbag
    conversions): optional device info may be missing, streams come in any order and at any
    resolution and rate. `open` reads what the file has (`info`, `streams`) before playing
    it, and `problems` says, one sentence each, what keeps the runtime from using it. With
    `require_rgbd` (the runtime's case) the first problem is raised as a `CameraError`;
    without it (`camera check`) the file is still played and its frames counted per stream.
    """

    def __init__(
        self,
        path: str | Path,
        real_time: bool = False,
        clock: Clock | None = None,
        require_rgbd: bool = True,
    ) -> None:
        self.path = Path(path)
        self.clock: Clock = clock if clock is not None else MonotonicClock()  # stamps frames
        self.real_time = real_time
        self.require_rgbd = require_rgbd
        self.finished = False
        self.intrinsics: Intrinsics | None = None
        self.depth_scale_m = 0.0
        self.fps = 0.0
        self.info: dict[str, str] = {}  # name, serial, firmware ("" when not recorded)
        self.streams: dict[str, dict[str, Any]] = {}
        self.problems: list[str] = []
        self.stream_frames: Counter[str] = Counter()  # counted only for unusable recordings
        self._pipeline: Any = None
        self._playback: Any = None
        self._converter: FramesetConverter | None = None
        self._closed_counters: dict[str, int] = {"framesets": 0}

    @property
    def serial(self) -> str:
        return self.info.get("serial", "")

    def open(self) -> None:
        if not self.path.is_file():
            raise CameraError(f"recording {self.path} does not exist; check the path")
        if self.path.suffix not in SUFFIXES:
            raise CameraError(f"{self.path} is not a RealSense recording; pass a .db3 or .bag file")
        rs = import_rs()
        self.info, self.streams = describe_recording(rs, self.path)
        self.problems = rgbd_problems(self.path, self.streams)
        if self.problems and self.require_rgbd:
            raise CameraError(self.problems[0])
        if not self.streams:
            raise CameraError(f"{self.path} holds no streams; is it a complete recording?")
        pipeline = rs.pipeline()
        config = rs.config()
        config.enable_device_from_file(str(self.path), repeat_playback=False)
        try:
            profile = pipeline.start(config)
        except RuntimeError as exc:
            raise CameraError(
                f"{self.path} cannot be played back ({exc}); is it a complete recording?"
            ) from None
        self._pipeline = pipeline
        try:
            self._follow(rs, profile)
        except Exception:
            self.close()
            raise

    def _follow(self, rs: Any, profile: Any) -> None:
        """Playback mode, rewind, and what the runtime needs to know of the main stream."""
        self._playback = profile.get_device().as_playback()
        self._playback.set_real_time(self.real_time)
        if not self.real_time:
            # The pipeline starts playing in real time: frames it emits before the switch
            # above are dropped by its queue (frames 0-2 of a short recording, under load).
            # Rewinding recovers them in most runs; librealsense still loses the first few
            # in about one start in twenty (measured on 12-frame recordings), so callers that
            # count frames allow for it.
            self._playback.seek(datetime.timedelta(0))
        main = "color" if "color" in self.streams else next(iter(self.streams))
        main_profile = profile.get_stream(getattr(rs.stream, main))
        if main_profile.is_video_stream_profile():
            self.intrinsics = intrinsics_of(main_profile)
        self.fps = float(main_profile.fps())
        self.depth_scale_m = self.streams.get("depth", {}).get("depth_units") or 0.0
        if not self.problems:
            self._converter = FramesetConverter(rs, self.depth_scale_m, self.fps)

    def _next_frameset(self, deadline_s: float) -> Any:
        """The next frameset, or None at the end of the file or at `deadline_s`."""
        while not self.finished:
            ok, frameset = self._pipeline.try_wait_for_frames(50)
            if ok:
                return frameset
            if str(self._playback.current_status()).endswith("stopped"):
                self.finished = True
            if time.monotonic() >= deadline_s:
                return None
        return None

    def next_frame(self, timeout_s: float = 0.5) -> Frame | None:
        """The next paired, aligned frame; None at the end or when nothing came in time."""
        if self._pipeline is None:
            raise CameraError(f"playback of {self.path} is not open; call open() first")
        if self._converter is None:
            raise CameraError(self.problems[0])
        deadline = time.monotonic() + timeout_s
        while (frameset := self._next_frameset(deadline)) is not None:
            frame = self._converter.convert(frameset, self.clock.now_ns())
            if frame is not None:
                return frame
        return None

    def count_frames(self, timeout_s: float = 2.0) -> Counter[str]:
        """Read to the end without pairing: distinct frames per stream (`stream_frames`)."""
        if self._pipeline is None:
            raise CameraError(f"playback of {self.path} is not open; call open() first")
        seen: set[tuple[str, int]] = set()  # the rewind in `open` may replay the first few
        while (frameset := self._next_frameset(time.monotonic() + timeout_s)) is not None:
            for frame in frameset:
                kind = str(frame.get_profile().stream_type()).rsplit(".", 1)[-1]
                seen.add((kind, frame.get_frame_number()))
        self.stream_frames = Counter(kind for kind, _number in seen)
        return self.stream_frames

    def counters(self) -> dict[str, int]:
        if self._converter is None:
            return dict(self._closed_counters)
        return {"framesets": self._converter.framesets, **self._converter.pairs.counters()}

    def close(self) -> None:
        """Stop playback and drop every librealsense object here, on the closing thread.

        Left to the garbage collector, librealsense's objects die on whatever thread runs
        it, possibly while their playback threads still deliver frames.
        """
        pipeline, self._pipeline = self._pipeline, None
        playback, self._playback = self._playback, None
        if self._converter is not None:
            self._closed_counters = self.counters()  # still asked for after the run
        self._converter = None
        if pipeline is not None:
            with contextlib.suppress(RuntimeError):
                pipeline.stop()
        del pipeline, playback
        gc.collect()

    def __enter__(self) -> PlaybackReader:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class PlaybackCamera(Camera):
    """A recording played into the capture thread; `finished` turns True at its end."""

    def __init__(
        self,
        path: str | Path,
        real_time: bool = False,
        name: str = "playback",
        clock: Clock | None = None,
    ) -> None:
        super().__init__(name, clock)
        self.reader = PlaybackReader(path, real_time, self.clock)

    @property
    def finished(self) -> bool:
        return self.reader.finished

    @property
    def frames_dropped(self) -> int:
        return self.reader.counters().get("dropped", 0)

    def _open(self) -> None:
        self.reader.open()

    def _capture(self) -> Frame | None:
        if self.reader.finished:
            self._stop.wait(0.05)  # nothing more will come; do not spin
            return None
        return self.reader.next_frame(timeout_s=0.2)

    def _close(self) -> None:
        self.reader.close()

    def counters(self) -> dict[str, int]:
        return {"captured": self.frames_captured, **self.reader.counters()}
