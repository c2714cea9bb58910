"""Playback of RealSense recordings (.db3, older .bag) behind the `Camera` port.

`PlaybackReader` is the synchronous core (open, next frame, finished) used by `camera
check`, the benchmarks and replay; `PlaybackCamera` puts it behind the capture thread so the
runtime can drive a robot, or the simulator, from a recording. Frames go through the same
pairing filter and `rs.align` as the live camera's. `real_time=False` plays as fast as the
reader takes frames; `real_time=True` follows the wall-clock pace of the recording.
"""

from __future__ import annotations

import datetime
import time
from pathlib import Path
from typing import Any

from edge_runtime.errors import CameraError
from edge_runtime.loop.clock import Clock, MonotonicClock
from edge_runtime.sensors.base import Camera, Frame, Intrinsics
from edge_runtime.sensors.realsense_device import (
    FramesetConverter,
    import_rs,
    intrinsics_of,
    stream_kinds,
)

SUFFIXES = (".db3", ".bag")


class PlaybackReader:
    """Frames of one recording, in order, without a thread. Context manager."""

    def __init__(
        self, path: str | Path, real_time: bool = False, clock: Clock | None = None
    ) -> None:
        self.path = Path(path)
        self.clock: Clock = clock if clock is not None else MonotonicClock()  # stamps frames
        self.real_time = real_time
        self.finished = False
        self.intrinsics: Intrinsics | None = None
        self.depth_scale_m = 0.0
        self.fps = 0.0
        self.serial = ""
        self._pipeline: Any = None
        self._playback: Any = None
        self._converter: FramesetConverter | None = None

    def open(self) -> None:
        if not self.path.is_file():
            raise CameraError(f"recording {self.path} does not exist; check the path")
        if self.path.suffix not in SUFFIXES:
            raise CameraError(f"{self.path} is not a RealSense recording; pass a .db3 or .bag file")
        rs = import_rs()
        pipeline = rs.pipeline()
        config = rs.config()
        config.enable_device_from_file(str(self.path), repeat_playback=False)
        try:
            profile = pipeline.start(config)
        except RuntimeError as exc:
            raise CameraError(
                f"{self.path} cannot be played back ({exc}); is it a complete recording?"
            ) from exc
        device = profile.get_device()
        missing = {"depth", "color"} - stream_kinds(rs, device)
        if missing:
            pipeline.stop()
            raise CameraError(
                f"{self.path} has no {' or '.join(sorted(missing))} stream; "
                "record both depth and color"
            )
        self._playback = device.as_playback()
        self._playback.set_real_time(self.real_time)
        if not self.real_time:
            # The pipeline starts playing in real time: frames it emits before the switch
            # above are dropped by its queue (frames 0-2 of a short recording, under load).
            # Rewinding recovers them in most runs; librealsense still loses the first few
            # in about one start in twenty (measured on 12-frame recordings), so callers that
            # count frames allow for it.
            self._playback.seek(datetime.timedelta(0))
        color = profile.get_stream(rs.stream.color)
        self.intrinsics = intrinsics_of(color)
        self.fps = float(color.fps())
        self.depth_scale_m = device.first_depth_sensor().get_depth_scale()
        self.serial = device.get_info(rs.camera_info.serial_number)
        self._converter = FramesetConverter(rs, self.depth_scale_m, self.fps)
        self._pipeline = pipeline

    def next_frame(self, timeout_s: float = 0.5) -> Frame | None:
        """The next paired, aligned frame; None at the end or when nothing came in time."""
        if self._pipeline is None or self._converter is None:
            raise CameraError(f"playback of {self.path} is not open; call open() first")
        deadline = time.monotonic() + timeout_s
        while not self.finished:
            ok, frameset = self._pipeline.try_wait_for_frames(50)
            if not ok:
                status = self._playback.current_status()
                if str(status).endswith("stopped"):
                    self.finished = True
                if time.monotonic() >= deadline:
                    return None
                continue
            frame = self._converter.convert(frameset, self.clock.now_ns())
            if frame is not None:
                return frame
        return None

    def counters(self) -> dict[str, int]:
        if self._converter is None:
            return {"framesets": 0}
        return {"framesets": self._converter.framesets, **self._converter.pairs.counters()}

    def close(self) -> None:
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            pipeline.stop()

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
