"""Write a `.db3` RealSense recording of the synthetic scene through pyrealsense2 itself.

A `software_device` with a depth and a color sensor, wrapped in `rs.recorder`: the file is
written by librealsense exactly as it writes a live D4xx session (streams, intrinsics,
extrinsics, depth units, frame numbers and timestamps), so playback, pairing and alignment are
exercised for real on a machine with no camera. Used by the tests, by `edgerun camera
synth` and by the benchmarks.
"""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np

from edge_runtime.errors import CameraError
from edge_runtime.sensors.realsense_device import import_rs
from edge_runtime.sensors.synthetic_scene import scene_frame

DEPTH_UNITS_M = 0.001


def write_synthetic_recording(
    path: str | Path,
    frames: int = 30,
    width: int = 640,
    height: int = 480,
    fps: int = 30,
    seed: int = 0,
    streams: tuple[str, ...] = ("depth", "color"),
    serial: str | None = "000000000000",
    compress: bool = True,
    *,
    name: str | None = "Synthetic D435",
    depth_size: tuple[int, int] | None = None,
    depth_units_m: float | None = DEPTH_UNITS_M,
    color_format: str = "rgb8",
) -> Path:
    """Record `frames` frames of the synthetic scene to `path` (.db3); returns the path.

    `compress` is librealsense's own frame compression (on by default, as for a live camera's
    recordings): files about half the size, but playback spends most of its time decompressing.
    The other options write the shapes other tools produce, for the tests: `streams` in any
    order (or one alone), no `serial` or `name` (None), depth at its own `depth_size`
    (width, height), no depth units option (None), color as "rgb8" or "bgr8".
    """
    rs = import_rs()
    path = Path(path)
    if path.suffix != ".db3":
        raise CameraError(f"{path}: pyrealsense2 2.59 records .db3 files; name it *.db3")
    if color_format not in ("rgb8", "bgr8"):
        raise CameraError(f"color_format {color_format!r} is not written; use rgb8 or bgr8")
    path.parent.mkdir(parents=True, exist_ok=True)

    sizes = {"color": (width, height), "depth": depth_size or (width, height)}

    def intrinsics(w: int, h: int) -> object:
        i = rs.intrinsics()
        i.width, i.height = w, h
        i.fx = i.fy = 0.9 * w
        i.ppx, i.ppy = w / 2, h / 2
        i.model = rs.distortion.brown_conrady
        i.coeffs = [0.0] * 5
        return i

    device = rs.software_device()
    if name is not None:
        device.register_info(rs.camera_info.name, name)
    if serial is not None:
        device.register_info(rs.camera_info.serial_number, serial)
    sensors = {}
    for uid, kind in enumerate(streams):
        sensor = device.add_sensor("Stereo Module" if kind == "depth" else "RGB Camera")
        stream = rs.video_stream()
        stream.type = rs.stream.depth if kind == "depth" else rs.stream.color
        stream.index, stream.uid = 0, uid
        (stream.width, stream.height), stream.fps = sizes[kind], fps
        stream.bpp = 2 if kind == "depth" else 3
        stream.fmt = rs.format.z16 if kind == "depth" else getattr(rs.format, color_format)
        stream.intrinsics = intrinsics(*sizes[kind])
        if kind == "depth" and depth_units_m is not None:
            sensor.add_read_only_option(rs.option.depth_units, depth_units_m)
        sensors[kind] = (sensor, sensor.add_video_stream(stream))
    if "depth" in sensors and "color" in sensors:
        extrinsics = rs.extrinsics()
        extrinsics.rotation = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
        extrinsics.translation = [0.015, 0.0, 0.0]  # a D435's depth-to-color baseline
        sensors["depth"][1].register_extrinsics_to(sensors["color"][1], extrinsics)

    recorder = rs.recorder(str(path), device, compress)
    queue = rs.frame_queue(max(frames * len(streams), 1))
    for sensor, profile in sensors.values():
        sensor.open(profile)
        sensor.start(queue)
    try:
        for index in range(frames):
            color, depth = scene_frame(index, width, height, seed)
            if sizes["depth"] != sizes["color"]:
                depth = scene_frame(index, *sizes["depth"], seed)[1]
            if color_format == "bgr8":
                color = np.ascontiguousarray(color[..., ::-1])
            for kind, (sensor, profile) in sensors.items():
                pixels = depth if kind == "depth" else color
                frame = rs.software_video_frame()
                frame.pixels = pixels
                frame.bpp = pixels.itemsize * (1 if pixels.ndim == 2 else 3)
                frame.stride = pixels.shape[1] * frame.bpp
                frame.timestamp = index * 1000.0 / fps
                frame.domain = rs.timestamp_domain.hardware_clock
                frame.frame_number = index
                frame.profile = profile.as_video_stream_profile()
                if kind == "depth":
                    frame.depth_units = depth_units_m or DEPTH_UNITS_M
                sensor.on_video_frame(frame)
                while queue.poll_for_frame():  # keep the queue from holding every frame
                    pass
    finally:
        for sensor, _profile in sensors.values():
            sensor.stop()
            sensor.close()
        recorder.pause()
        del recorder  # the bag is finalised when the recorder is destroyed
        gc.collect()
    return path
