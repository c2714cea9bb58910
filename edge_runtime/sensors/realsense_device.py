"""pyrealsense2 specifics shared by the live camera, playback and synthetic recordings.

Kept apart from the `Camera` adapters (SDK bindings apart from adapters): the lazy import
with its one-sentence failure, intrinsics, and turning an aligned frameset into a `Frame`
that owns its pixels (librealsense recycles frame buffers, so the arrays are copied).
"""

from __future__ import annotations

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


def stream_kinds(rs: ModuleType, device: Any) -> set[str]:
    """Which of "depth" and "color" a device (or recording) provides."""
    kinds = set()
    for sensor in device.query_sensors():
        for profile in sensor.get_stream_profiles():
            if profile.stream_type() == rs.stream.depth:
                kinds.add("depth")
            elif profile.stream_type() == rs.stream.color:
                kinds.add("color")
    return kinds
