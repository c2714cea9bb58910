"""Export speed: frames per second of `log export` on a 640x480 30 fps RGB-D log, 100 Hz joints.

The goal (issue 14) is 10x faster than real time on one core, i.e. 300 frames/s for a
30 fps camera with its 100 Hz joint states. The log is the recorder's own format (JPEG q90
color, zlib-delta depth) of the synthetic scene `edgerun bench recorder` uses, written by the
real `EpisodeRecorder`. Run on one core:

    taskset -c 0 python -m edge_runtime.recording.export_bench --seconds 20

Reported per format: frames/s and the speed-up over real time. Times include reading the
log twice, planning and writing metadata, not Python start-up.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.pipeline.observer import TickRecord
from edge_runtime.recording.export_lerobot import LeRobotOptions, export_lerobot
from edge_runtime.recording.export_mcap import export_mcap
from edge_runtime.recording.recorder import EpisodeRecorder
from edge_runtime.sensors.base import Frame, Intrinsics
from edge_runtime.sensors.synthetic_scene import scene_frame

FPS, RATE_HZ, JOINTS = 30, 100, 6


def write_bench_log(directory: Path, seconds: float, width: int = 640, height: int = 480) -> Path:
    """`seconds` of RGB-D at 30 fps and ticks at 100 Hz (30 distinct scenes, cycled)."""
    scenes = [scene_frame(i, width, height) for i in range(30)]
    intr = Intrinsics(width, height, 600.0, 600.0, width / 2, height / 2)
    rec = EpisodeRecorder(directory, process=False, frame_queue=1 << 16, record_queue=1 << 20)
    rec.on_start([f"joint_{j}" for j in range(JOINTS)], 1 / RATE_HZ)
    t0, frames = 10**12, round(seconds * FPS)
    for i in range(round(seconds * RATE_HZ)):
        start = t0 + i * 10_000_000
        pos = np.sin(i / 50 + np.arange(JOINTS))
        rec.on_tick(TickRecord(i, start, start, 0, 0, pos, pos, pos, pos, pos, "run", 0))
    for n in range(frames):
        color, depth = scenes[n % len(scenes)]
        host_ns = t0 + 1_000_000 + round(n * 1e9 / FPS)
        rec.on_frame(Frame(color, depth, 0.001, intr, host_ns / 1e6, host_ns, n, "sim"))
    rec.on_stop()
    return directory


def _import_export_libraries() -> None:
    """Imported before timing: a CLI run pays this once, not per frame."""
    import av  # noqa: F401
    import mcap.writer  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow.parquet  # noqa: F401


def run_export_bench(
    seconds: float = 20.0, width: int = 640, height: int = 480, work_dir: Path | None = None
) -> dict[str, Any]:
    """Write a bench log, export it to each format on this process's core(s); frames/s."""
    root = Path(tempfile.mkdtemp(prefix="edgerun-export-bench-", dir=work_dir))
    try:
        log = write_bench_log(root / "log", seconds, width, height)
        frames = round(seconds * FPS)
        exports = {
            "lerobot mjpeg": (root / "ds", {}),
            "lerobot mjpeg, no depth": (root / "nodepth", {"depth": False}),
            "lerobot h264": (root / "h264", {"video_codec": "h264"}),
            "mcap zstd": (root / "zstd.mcap", {"compression": "zstd"}),
            "mcap lz4": (root / "lz4.mcap", {"compression": "lz4"}),
        }
        _import_export_libraries()
        runs = []
        for name, (out, options) in exports.items():
            began = time.perf_counter()
            if name.startswith("mcap"):
                export_mcap([log], out, 1, **options)
            else:
                export_lerobot([log], LeRobotOptions(out, jobs=1, **options))
            elapsed = time.perf_counter() - began
            files = [out] if out.is_file() else [p for p in out.rglob("*") if p.is_file()]
            runs.append(
                {
                    "format": name,
                    "frames": frames,
                    "seconds": round(elapsed, 2),
                    "frames_per_s": round(frames / elapsed, 1),
                    "x_real_time": round(seconds / elapsed, 1),
                    "mb": round(sum(p.stat().st_size for p in files) / 1e6, 1),
                }
            )
        log_mb = sum(p.stat().st_size for p in log.iterdir()) / 1e6
        return {
            "log_seconds": seconds,
            "log_mb": round(log_mb, 1),
            "width": width,
            "height": height,
            "runs": runs,
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    print(json.dumps(run_export_bench(parser.parse_args().seconds), indent=2))
