"""`RealSenseCamera`: a live D4xx behind the `Camera` port (pyrealsense2, imported lazily).

Color and depth at the configured resolution and rate, depth aligned to color, depth scale,
intrinsics of the color stream, device timestamp, host receive time and frame number on every
frame. The base class owns the capture thread and the latest-frame slot, so `read_latest`
never blocks. This class adds warm-up (auto-exposure settles in the first frames), the
pairing filter, dropped-frame counts, optional `.db3` recording of the raw streams, and
reconnection after USB loss: when no frameset arrives for `lost_after_s` the pipeline is
stopped and each later `_capture` makes one bounded reconnect attempt, raising `CameraError`
in between so the base counts and logs it. The runtime meanwhile sees stale frames and holds,
then stops safely.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

from edge_runtime.errors import CameraError
from edge_runtime.loop.clock import Clock
from edge_runtime.sensors.base import Camera, Frame, Intrinsics
from edge_runtime.sensors.realsense_device import FramesetConverter, import_rs, intrinsics_of
from edge_runtime.sensors.realsense_playback import PlaybackCamera
from edge_runtime.sensors.realsense_sync import apply_sync_mode

__all__ = ["PlaybackCamera", "RealSenseCamera", "connected_serials"]


def connected_serials() -> list[str]:
    """Serial numbers of the RealSense devices plugged in now."""
    rs = import_rs()
    return [d.get_info(rs.camera_info.serial_number) for d in rs.context().query_devices()]


class RealSenseCamera(Camera):
    def __init__(
        self,
        serial: str = "",
        width: int = 640,
        height: int = 480,
        fps: int = 30,
        *,
        record_to: str | Path = "",
        warmup_frames: int = 15,
        lost_after_s: float = 1.0,
        max_reconnects: int = 10,
        name: str = "realsense",
        clock: Clock | None = None,
        sync_mode: int | None = None,
    ) -> None:
        super().__init__(name, clock)
        self.serial = serial
        # Inter-camera sync mode set before streaming (realsense_sync); None leaves the device's.
        self.sync_mode = sync_mode
        self.sync = "software"  # "hardware" once the device took a master/slave mode
        self.width, self.height, self.fps = width, height, fps
        self.record_to = Path(record_to) if record_to else None
        self.warmup_frames = warmup_frames
        self.lost_after_s = lost_after_s
        self.max_reconnects = max_reconnects
        self.intrinsics: Intrinsics | None = None
        self.depth_scale_m = 0.0
        self.reconnects = 0
        self._failed_attempts = 0
        self._pipeline: Any = None
        self._converter: FramesetConverter | None = None
        self._last_frameset_s = 0.0
        self._segment = 0

    @property
    def frames_dropped(self) -> int:
        return self._converter.pairs.dropped if self._converter else 0

    def counters(self) -> dict[str, int]:
        counts = {"captured": self.frames_captured, "reconnects": self.reconnects}
        if self._converter is None:
            return {"framesets": 0, **counts}
        return {
            "framesets": self._converter.framesets,
            **counts,
            **self._converter.pairs.counters(),
        }

    # -- Camera hooks -------------------------------------------------------------------
    def _open(self) -> None:
        self._start_pipeline(first=True)

    def _capture(self) -> Frame | None:
        if self._pipeline is None:
            self._reconnect()
            return None
        ok, frameset = self._pipeline.try_wait_for_frames(200)
        now = time.monotonic()
        if not ok:
            if now - self._last_frameset_s > self.lost_after_s:
                self._stop_pipeline()
                raise CameraError(
                    f"camera {self.serial or '(first found)'} delivered no frames for "
                    f"{self.lost_after_s:.1f} s (unplugged?); reconnecting"
                )
            return None
        self._last_frameset_s = now
        assert self._converter is not None
        return self._converter.convert(frameset, self.clock.now_ns())

    def _close(self) -> None:
        self._stop_pipeline()

    # -- device handling ----------------------------------------------------------------
    def _start_pipeline(self, first: bool = False) -> None:
        rs = import_rs()
        serials = connected_serials()
        if not serials:
            raise CameraError(
                "no RealSense camera found; plug one into a USB 3 port, or set "
                '[camera] type = "playback" to run from a recording'
            )
        if self.serial and self.serial not in serials:
            raise CameraError(
                f"no RealSense camera with serial {self.serial}; connected: {', '.join(serials)}"
            )
        config = rs.config()
        if self.serial:
            config.enable_device(self.serial)
        config.enable_stream(rs.stream.depth, self.width, self.height, rs.format.z16, self.fps)
        config.enable_stream(rs.stream.color, self.width, self.height, rs.format.rgb8, self.fps)
        if self.record_to is not None:
            # A reconnect starts a new file: librealsense cannot append to a finished bag.
            target = self.record_to
            if self._segment:
                target = target.with_name(f"{target.stem}-{self._segment}{target.suffix}")
            config.enable_record_to_file(str(target))
            self._segment += 1
        if self.sync_mode is not None:
            wanted = self.serial or serials[0]
            for device in rs.context().query_devices():
                if device.get_info(rs.camera_info.serial_number) == wanted:
                    self.sync = apply_sync_mode(rs, device, self.sync_mode)
        pipeline = rs.pipeline()
        try:
            profile = pipeline.start(config)
        except RuntimeError as exc:
            raise CameraError(
                f"cannot start camera {self.serial or serials[0]} at {self.width}x{self.height} "
                f"@ {self.fps} fps ({exc}); check the mode is supported and the port is USB 3"
            ) from exc
        device = profile.get_device()
        self.serial = self.serial or device.get_info(rs.camera_info.serial_number)
        self.depth_scale_m = device.first_depth_sensor().get_depth_scale()
        self.intrinsics = intrinsics_of(profile.get_stream(rs.stream.color))
        converter = FramesetConverter(rs, self.depth_scale_m, self.fps)
        if self._converter is not None:  # keep the counts across reconnects
            converter.pairs = self._converter.pairs
            converter.pairs.reset()
        self._converter = converter
        for _ in range(self.warmup_frames if first else 0):
            pipeline.try_wait_for_frames(1000)
        self._pipeline = pipeline
        self._last_frameset_s = time.monotonic()

    def _stop_pipeline(self) -> None:
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            with contextlib.suppress(RuntimeError):  # the device may already be gone
                pipeline.stop()

    def _reconnect(self) -> None:
        if self._failed_attempts >= self.max_reconnects:
            self._stop.wait(1.0)
            raise CameraError(
                f"camera {self.serial} is lost: gave up after {self.max_reconnects} reconnect "
                "attempts; check the USB cable and restart"
            )
        self._stop.wait(min(0.25 * 2**self._failed_attempts, 2.0))  # USB re-enumeration
        try:
            self._start_pipeline()
        except CameraError as exc:
            self._failed_attempts += 1
            raise CameraError(
                f"reconnect attempt {self._failed_attempts}/{self.max_reconnects} failed: {exc}"
            ) from exc
        self._failed_attempts = 0
        self.reconnects += 1
