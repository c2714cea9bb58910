"""What `camera check` and `bench camera` measure, as plain dicts (the CLI only renders them).

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
