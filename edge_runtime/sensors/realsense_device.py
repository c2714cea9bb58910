"""pyrealsense2 specifics shared by the live camera, playback and synthetic recordings.

Kept apart from the `Camera` adapters (SDK bindings apart from adapters): the lazy import
with its one-sentence failure, intrinsics, and turning an aligned frameset into a `Frame`
that owns its pixels (librealsense recycles frame buffers, so the arrays are copied).
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from edge_runtime.errors import CameraError
from edge_runtime.sensors.base import Frame, Intrinsics
from edge_runtime.sensors.pairing import PairFilter


def import_rs() -> ModuleType:
    """pyrealsense2, or a `CameraError` that says how to install it."""
    try:
        import pyrealsense2 as rs
    except ImportError as exc:
        raise CameraError(
            f"pyrealsense2 cannot be imported ({exc}); install it with "
            "pip install 'edge-runtime[camera]' and apt install libusb-1.0-0"
        ) from exc
    return rs


def intrinsics_of(profile: Any) -> Intrinsics:
    """`Intrinsics` of a video stream profile (per stream and resolution)."""
    i = profile.as_video_stream_profile().get_intrinsics()
    return Intrinsics(
        width=i.width,
        height=i.height,
        fx=i.fx,
        fy=i.fy,
        ppx=i.ppx,
        ppy=i.ppy,
        model=str(i.model).rsplit(".", 1)[-1],
        coeffs=tuple(float(c) for c in i.coeffs),
    )


def color_pixels(rs: ModuleType, frame: Any) -> np.ndarray:
    """HxWx3 RGB uint8 (copied) from a color frame in any of the common RealSense formats."""
    fmt = frame.get_profile().format()
    data = np.asanyarray(frame.get_data())
    if fmt == rs.format.rgb8:
        return data.copy()
    if fmt == rs.format.bgr8:
        return np.ascontiguousarray(data[..., ::-1])
    if fmt == rs.format.rgba8:
        return np.ascontiguousarray(data[..., :3])
    if fmt == rs.format.bgra8:
        return np.ascontiguousarray(data[..., 2::-1])
    raise CameraError(
        f"color format {fmt} is not supported; record or stream color as rgb8 or bgr8"
    )


class FramesetConverter:
    """Pairs, aligns and converts framesets into `Frame`s; counts what it filters."""

    def __init__(self, rs: ModuleType, depth_scale_m: float, fps: float) -> None:
        self.rs = rs
        self.depth_scale_m = depth_scale_m
        self.align = rs.align(rs.stream.color)
        self.pairs = PairFilter(period_ms=1000.0 / max(fps, 1.0))
        self._intrinsics: Intrinsics | None = None
        self.framesets = 0

    def convert(self, frameset: Any, host_ns: int) -> Frame | None:
        """A `Frame` for a good pair (arrived at `host_ns`), None for a rejected frameset."""
        self.framesets += 1
        depth = frameset.get_depth_frame()
        color = frameset.get_color_frame()
        ok = self.pairs.accept(
            depth.get_frame_number() if depth else None,
            color.get_frame_number() if color else None,
            depth.get_timestamp() if depth else 0.0,
            color.get_timestamp() if color else 0.0,
        )
        if not ok:
            return None
        aligned = self.align.process(frameset)
        depth = aligned.get_depth_frame()
        color = aligned.get_color_frame()
        if self._intrinsics is None:
            self._intrinsics = intrinsics_of(color.get_profile())
        return Frame(
            color=color_pixels(self.rs, color),
            depth=np.asanyarray(depth.get_data()).copy(),
            depth_scale_m=self.depth_scale_m,
            intrinsics=self._intrinsics,
            device_time_ms=color.get_timestamp(),
            device_clock=str(color.get_frame_timestamp_domain()).rsplit(".", 1)[-1],
            host_time_ns=host_ns,
            frame_number=color.get_frame_number(),
        )


COLOR_FORMATS = ("rgb8", "bgr8", "rgba8", "bgra8")  # what `color_pixels` converts
INFO_KEYS = {"name": "name", "serial": "serial_number", "firmware": "firmware_version"}


def device_info(rs: ModuleType, device: Any) -> dict[str, str]:
    """Name, serial and firmware of a device or recording; "" for what it does not record.

    Recordings from other tools, older firmware and rosbag conversions often lack some.
    """
    keys = {what: getattr(rs.camera_info, key) for what, key in INFO_KEYS.items()}
    return {what: device.get_info(k) if device.supports(k) else "" for what, k in keys.items()}


def stream_profiles(rs: ModuleType, device: Any) -> dict[str, dict[str, Any]]:
    """The first profile of each stream a device (or recording) has, by stream name."""
    streams: dict[str, dict[str, Any]] = {}
    for sensor in device.query_sensors():
        for profile in sensor.get_stream_profiles():
            kind = str(profile.stream_type()).rsplit(".", 1)[-1]
            if kind in streams:
                continue
            entry: dict[str, Any] = {
                "format": str(profile.format()).rsplit(".", 1)[-1],
                "fps": int(profile.fps()),
            }
            if profile.is_video_stream_profile():
                video = profile.as_video_stream_profile()
                entry.update(width=int(video.width()), height=int(video.height()))
            if kind == "depth":
                entry["depth_units"] = _depth_units(rs, sensor)
            streams[kind] = entry
    return streams


def _depth_units(rs: ModuleType, sensor: Any) -> float | None:
    if not sensor.supports(rs.option.depth_units):
        return None
    return float(sensor.get_option(rs.option.depth_units))


def describe_recording(rs: ModuleType, path: Path) -> tuple[dict[str, str], dict[str, Any]]:
    """(device info, streams) of a recording, read without starting playback.

    Nothing streams, so a recording the runtime cannot use is refused before any playback
    thread exists (stopping a playback that just started is where librealsense is fragile).
    """
    try:
        device = rs.context().load_device(str(path))
    except RuntimeError as exc:
        raise CameraError(
            f"{path} cannot be played back ({exc}); is it a complete recording?"
        ) from None
    try:
        return device_info(rs, device), stream_profiles(rs, device)
    finally:
        del device


def rgbd_problems(path: Path, streams: dict[str, dict[str, Any]]) -> list[str]:
    """What keeps the runtime from using a recording, one sentence each (empty: usable)."""
    missing = [kind for kind in ("depth", "color") if kind not in streams]
    if missing:
        has = ", ".join(sorted(streams)) or "no video"
        return [
            f"{path} has no {' and no '.join(missing)} stream (it has {has}); the runtime "
            "needs RGB-D: record depth and color"
        ]
    problems = []
    color, depth = streams["color"]["format"], streams["depth"]["format"]
    if color not in COLOR_FORMATS:
        problems.append(
            f"{path} has color as {color}; the runtime reads {', '.join(COLOR_FORMATS)}: "
            "record color in one of those"
        )
    if depth != "z16":
        problems.append(f"{path} has depth as {depth}; the runtime reads z16: record z16 depth")
    if streams["depth"].get("depth_units") is None:
        problems.append(
            f"{path} does not record the depth units (metres per depth unit); re-record it "
            "with librealsense, or convert it with a tool that keeps the depth sensor's options"
        )
    return problems
