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

from edge_runtime.sensors.base import Intrinsics
from edge_runtime.sensors.realsense_playback import PlaybackReader


def _intrinsics(intr: Intrinsics | None) -> dict[str, Any]:
    if intr is None:
        return {}
    d = asdict(intr)
    return {k: d[k] for k in ("fx", "fy", "ppx", "ppy", "width", "height", "model")}


def play_through(
    path: str | Path, max_frames: int | None = None, require_rgbd: bool = True
) -> dict[str, Any]:
    """Read a recording to its end as fast as possible; counts and timing.

    With `require_rgbd` False a recording the runtime cannot use is still read (frames
    counted per stream) and `problems` says why it cannot be used.
    """
    with PlaybackReader(path, real_time=False, require_rgbd=require_rgbd) as reader:
        paired = 0
        first_s = last_s = time.perf_counter()
        if reader.problems:
            reader.count_frames()
            last_s = time.perf_counter()
        while not reader.problems and (max_frames is None or paired < max_frames):
            frame = reader.next_frame(timeout_s=2.0)
            if frame is None:
                break
            paired += 1
            last_s = time.perf_counter()
        counters = reader.counters()
        elapsed = last_s - first_s
        streams = {
            kind: {**profile, "frames": reader.stream_frames.get(kind, counters.get("paired", 0))}
            for kind, profile in reader.streams.items()
        }
        return {
            "source": str(path),
            "serial": reader.serial,
            "device": reader.info,
            "streams": streams,
            "frames": counters["framesets"] or sum(reader.stream_frames.values()),
            "paired": paired,
            "seconds": round(elapsed, 4),
            "fps": round((paired - 1) / elapsed, 1) if elapsed > 0 and paired > 1 else 0.0,
            "recorded_fps": reader.fps,
            "intrinsics": _intrinsics(reader.intrinsics),
            "depth_scale": reader.depth_scale_m,
            "drops": counters.get("dropped", 0),
            "filtered": {k: counters.get(k, 0) for k in ("mismatched", "repeated", "incomplete")},
            "problems": list(reader.problems),
        }


def check_playback(path: str | Path) -> dict[str, Any]:
    """What a recording holds, and `problems`: why the runtime cannot use it (empty: usable)."""
    result = play_through(path, require_rgbd=False)
    if not result["problems"] and result["paired"] == 0:
        result["problems"].append(
            f"{path} holds no paired depth+color frames; record both streams at the same rate"
        )
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
    """A `check_*` result as (what, value) rows for a table, in the order an engineer reads.

    Any field may be missing (a recording from another tool): it shows as "-".
    """
    intr = result["intrinsics"]

    def pair(a: str, b: str) -> str:
        values = (intr.get(a), intr.get(b))
        return "-" if None in values else f"{values[0]:.2f}, {values[1]:.2f}"

    device = result.get("device", {})
    rows = [
        ("source", result["source"]),
        *((what, device.get(what) or "-") for what in ("name", "serial", "firmware") if device),
        *(
            (f"{kind} stream", _stream_text(profile))
            for kind, profile in result.get("streams", {}).items()
        ),
        ("framesets read", result["frames"]),
        ("paired frames", result["paired"]),
        ("fps", result["fps"]),
        ("dropped (frame-number gaps)", result["drops"]),
        ("filtered framesets", ", ".join(f"{k} {v}" for k, v in result["filtered"].items())),
        ("resolution", f"{intr['width']}x{intr['height']}" if intr else "-"),
        ("fx, fy", pair("fx", "fy")),
        ("ppx, ppy", pair("ppx", "ppy")),
        ("depth scale (m/unit)", f"{result['depth_scale']:.6g}" if result["depth_scale"] else "-"),
    ]
    return [{"what": what, "value": str(value)} for what, value in rows]


def _stream_text(profile: dict[str, Any]) -> str:
    size = f"{profile['width']}x{profile['height']} " if "width" in profile else ""
    return f"{size}{profile['format']} @ {profile['fps']} fps, {profile.get('frames', 0)} frames"


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


def bench_rows(result: dict[str, Any]) -> tuple[list[dict[str, Any]], list[tuple[str, str]], str]:
    """`bench camera`'s table: (rows, columns, caption) of `bench_playback`'s result."""
    rows = [{"run": i + 1, **r} for i, r in enumerate(result["runs"])]
    caption = (
        f"median {result['fps_median']:.0f} fps at {result['width']}x{result['height']} "
        f"(target >= {result['target_fps']})"
    )
    columns = [("run", "run"), ("paired", "frames"), ("seconds", "s"), ("fps", "fps")]
    return rows, columns, caption
