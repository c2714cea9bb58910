"""What `camera list|check` and `bench camera` find, as plain dicts (the CLI only renders them).

A check answers "is this camera (or recording) usable for the runtime?": framesets read, how
many paired, the rate, intrinsics, depth scale and drops. The benchmark plays a recording as
fast as possible several times, through the same pairing and alignment as the runtime, and
reports the median rate: playback speed bounds replay and offline evaluation.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from edge_runtime.errors import CameraError
from edge_runtime.sensors.base import Intrinsics
from edge_runtime.sensors.realsense_playback import PlaybackReader


def _intrinsics(intr: Intrinsics | None) -> dict[str, Any]:
    if intr is None:
        return {}
    d = asdict(intr)
    return {k: d[k] for k in ("fx", "fy", "ppx", "ppy", "width", "height", "model")}


def play_through(path: str | Path, max_frames: int | None = None) -> dict[str, Any]:
    """Read a recording to its end as fast as possible; counts and timing."""
    with PlaybackReader(path, real_time=False) as reader:
        paired = 0
        first_s = last_s = time.perf_counter()
        while max_frames is None or paired < max_frames:
            frame = reader.next_frame(timeout_s=2.0)
            if frame is None:
                break
            paired += 1
            last_s = time.perf_counter()
        counters = reader.counters()
        elapsed = last_s - first_s
        return {
            "source": str(path),
            "serial": reader.serial,
            "frames": counters["framesets"],
            "paired": paired,
            "seconds": round(elapsed, 4),
            "fps": round((paired - 1) / elapsed, 1) if elapsed > 0 else 0.0,
            "recorded_fps": reader.fps,
            "intrinsics": _intrinsics(reader.intrinsics),
            "depth_scale": reader.depth_scale_m,
            "drops": counters.get("dropped", 0),
            "filtered": {k: counters.get(k, 0) for k in ("mismatched", "repeated", "incomplete")},
        }


def check_playback(path: str | Path) -> dict[str, Any]:
    result = play_through(path)
    if result["paired"] == 0:
        raise CameraError(f"{path} holds no paired depth+color frames; record both streams")
    return result


def check_live(serial: str, seconds: float, width: int, height: int, fps: int) -> dict[str, Any]:
    from edge_runtime.sensors.realsense import RealSenseCamera

    camera = RealSenseCamera(serial, width, height, fps)
    camera.start()
    try:
        start = time.perf_counter()
        time.sleep(seconds)
        elapsed = time.perf_counter() - start
        counters = camera.counters()
    finally:
        camera.stop()
    return {
        "source": f"serial {camera.serial}",
        "serial": camera.serial,
        "frames": counters["framesets"],
        "paired": counters.get("paired", 0),
        "seconds": round(elapsed, 3),
        "fps": round(counters.get("paired", 0) / elapsed, 1),
        "intrinsics": _intrinsics(camera.intrinsics),
        "depth_scale": camera.depth_scale_m,
        "drops": counters.get("dropped", 0),
        "filtered": {k: counters.get(k, 0) for k in ("mismatched", "repeated", "incomplete")},
        "errors": camera.capture_errors,
    }


def check_rows(result: dict[str, Any]) -> list[dict[str, str]]:
    """A `check_*` result as (what, value) rows for a table, in the order an engineer reads."""
    intr = result["intrinsics"]
    rows = [
        ("source", result["source"]),
        ("framesets read", result["frames"]),
        ("paired frames", result["paired"]),
        ("fps", result["fps"]),
        ("dropped (frame-number gaps)", result["drops"]),
        ("filtered framesets", ", ".join(f"{k} {v}" for k, v in result["filtered"].items())),
        ("resolution", f"{intr.get('width')}x{intr.get('height')}"),
        ("fx, fy", f"{intr.get('fx'):.2f}, {intr.get('fy'):.2f}"),
        ("ppx, ppy", f"{intr.get('ppx'):.2f}, {intr.get('ppy'):.2f}"),
        ("depth scale (m/unit)", f"{result['depth_scale']:.6g}"),
    ]
    return [{"what": what, "value": str(value)} for what, value in rows]


def list_cameras() -> list[dict[str, str]]:
    """The RealSense cameras plugged in: name, serial, firmware and USB type ('-' if unknown)."""
    from edge_runtime.sensors.realsense_device import import_rs

    rs = import_rs()

    def info(device: Any, key: Any) -> str:
        return device.get_info(key) if device.supports(key) else "-"

    return [
        {
            "name": info(d, rs.camera_info.name),
            "serial": info(d, rs.camera_info.serial_number),
            "firmware": info(d, rs.camera_info.firmware_version),
            "usb": info(d, rs.camera_info.usb_type_descriptor),
        }
        for d in rs.context().query_devices()
    ]


def bench_playback(path: str | Path, runs: int = 3) -> dict[str, Any]:
    results = [play_through(path) for _ in range(runs)]
    fps = [r["fps"] for r in results]
    return {
        "source": str(path),
        "runs": [
            {"paired": r["paired"], "seconds": r["seconds"], "fps": r["fps"]} for r in results
        ],
        "fps_median": statistics.median(fps),
        "width": results[0]["intrinsics"].get("width"),
        "height": results[0]["intrinsics"].get("height"),
        "target_fps": 300,
    }
