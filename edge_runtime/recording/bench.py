"""`edgerun bench recorder`: codec choice, sustained throughput, and the cost to the loop.

1. Codecs: encode time and ratio of each candidate on the synthetic 640x480 scene (the
   numbers that chose JPEG for color and delta+zlib for depth; zstd and lz4 rows appear when
   those packages happen to be installed).
2. Side by side, same process, same load: a 100 Hz control loop on the runtime's
   `FixedRateScheduler` (real-time settings as the runtime applies them) while a camera
   thread produces 30 fps 640x480 RGB-D frames; without recording, then with an
   `EpisodeRecorder` taking every tick and every frame, its writer as a thread of this
   process ("thread") and as a child process ("process", the default). Reported: loop
   lateness p50/p99/max, missed periods, recorder drops, bytes written. The runtime target
   is p99 <= 300 µs at 100 Hz with 0 missed periods; the recorder target is 0 drops.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.loop.realtime import configure_realtime
from edge_runtime.loop.scheduler import FixedRateScheduler, Tick
from edge_runtime.pipeline.observer import LoopObserver, TickRecord
from edge_runtime.recording.codecs import encode_color, encode_depth
from edge_runtime.recording.recorder import EpisodeRecorder
from edge_runtime.sensors.base import Frame, Intrinsics
from edge_runtime.sensors.synthetic_scene import scene_frame

JOINTS = 6


def _time_ms(fn: Callable[[], bytes], repeats: int) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        size = len(fn())
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times), size


def codec_rows(frames: list[tuple[np.ndarray, np.ndarray]], repeats: int = 3) -> list[dict]:
    color, depth = frames[0]
    cands: list[tuple[str, str, Callable[[], bytes], int]] = [
        (
            "color",
            "jpeg q90 (chosen)",
            lambda: encode_color(color, "jpeg", 90)["data"],
            color.nbytes,
        ),
        ("color", "jpeg q75", lambda: encode_color(color, "jpeg", 75)["data"], color.nbytes),
        ("color", "zlib-1", lambda: zlib.compress(color.tobytes(), 1), color.nbytes),
        (
            "depth",
            "zlib-delta (chosen)",
            lambda: encode_depth(depth, "zlib-delta")["data"],
            depth.nbytes,
        ),
        ("depth", "zlib-1", lambda: encode_depth(depth, "zlib")["data"], depth.nbytes),
        ("depth", "zlib-6", lambda: zlib.compress(depth.tobytes(), 6), depth.nbytes),
    ]
    try:
        import zstandard

        z1 = zstandard.ZstdCompressor(level=1)
        cands.append(
            ("depth", "zstd-1 (optional dep)", lambda: z1.compress(depth.tobytes()), depth.nbytes)
        )
    except ImportError:
        pass
    try:
        import lz4.frame

        cands.append(
            (
                "depth",
                "lz4 (optional dep)",
                lambda: lz4.frame.compress(depth.tobytes()),
                depth.nbytes,
            )
        )
    except ImportError:
        pass
    rows = []
    for stream, name, fn, raw in cands:
        ms, size = _time_ms(fn, repeats)
        rows.append(
            {
                "stream": stream,
                "codec": name,
                "encode_ms": round(ms, 2),
                "ratio": round(raw / size, 2),
                "kb": round(size / 1024, 1),
            }
        )
    return rows


class _CameraThread:
    """30 fps of fresh `Frame` objects built from pre-rendered scene frames (cheap to make)."""

    def __init__(
        self, observer: LoopObserver | None, frames: list[tuple[np.ndarray, np.ndarray]], fps: float
    ) -> None:
        self.observer, self.frames, self.period = observer, frames, 1.0 / fps
        self.stop = threading.Event()
        self.count = 0
        self.thread = threading.Thread(target=self._run, name="bench-camera", daemon=True)
        h, w = frames[0][1].shape
        self.intr = Intrinsics(w, h, 0.9 * w, 0.9 * w, w / 2, h / 2)

    def _run(self) -> None:
        next_t = time.monotonic()
        while not self.stop.is_set():
            color, depth = self.frames[self.count % len(self.frames)]
            frame = Frame(
                color.copy(),
                depth.copy(),
                0.001,
                self.intr,
                self.count * 33.3,
                time.monotonic_ns(),
                self.count,
            )
            self.count += 1
            if self.observer is not None:
                self.observer.on_frame(frame)
            next_t += self.period
            self.stop.wait(max(next_t - time.monotonic(), 0))


def loop_run(
    recorder: EpisodeRecorder | None, frames: list, ticks: int, rate_hz: float, realtime: bool
) -> dict[str, Any]:
    scheduler = FixedRateScheduler(1.0 / rate_hz)
    observer: LoopObserver = recorder if recorder is not None else LoopObserver()
    zeros = np.zeros(JOINTS)
    camera = _CameraThread(observer if recorder is not None else None, frames, 30.0)

    def step(tick: Tick) -> None:
        t0 = time.monotonic_ns()
        pos = np.full(JOINTS, tick.index * 1e-3)
        observer.on_tick(
            TickRecord(
                tick.index,
                tick.deadline_ns,
                tick.start_ns,
                tick.lateness_ns,
                tick.missed,
                pos,
                zeros.copy(),
                zeros.copy(),
                pos.copy(),
                pos.copy(),
                "run",
                time.monotonic_ns() - t0,
            )
        )

    def control() -> None:
        if realtime:
            configure_realtime(priority=80)  # as the runtime's control thread does
        observer.on_start([f"j{i}" for i in range(JOINTS)], 1.0 / rate_hz)
        scheduler.run(step, max_ticks=ticks)

    camera.thread.start()
    thread = threading.Thread(target=control, name="bench-control")
    thread.start()
    thread.join()
    camera.stop.set()
    camera.thread.join()
    t_close = time.perf_counter()
    observer.on_stop()
    drain_s = time.perf_counter() - t_close
    d = scheduler.summary.as_dict()
    row: dict[str, Any] = {
        "recording": recorder is not None,
        "ticks": d["ticks"],
        "frames": camera.count,
        "lateness_us": d["lateness_us"],
        "missed": d["missed"],
        "switch_interval_us": round(sys.getswitchinterval() * 1e6),
    }
    if recorder is not None:
        w = recorder.writer
        row.update(
            drops=sum(recorder.dropped.values()),
            records=w.records_written,
            mb_written=round(getattr(w, "child_stats", {}).get("bytes", w.bytes_written) / 1e6, 1),
            syncs=w.syncs,
            drain_s=round(drain_s, 2),
            error=recorder.error,
        )
    return row


def run_recorder_bench(
    seconds: float = 10.0,
    rate_hz: float = 100.0,
    realtime: bool = True,
    directory: str | Path | None = None,
) -> dict[str, Any]:
    frames = [scene_frame(i) for i in range(8)]
    codecs = codec_rows(frames)
    ticks = int(seconds * rate_hz)
    runs = []
    with tempfile.TemporaryDirectory(prefix="edgerun-bench-rec-", dir=directory) as tmp:
        runs.append({"mode": "off", **loop_run(None, frames, ticks, rate_hz, realtime)})
        for mode in ("thread", "process"):
            recorder = EpisodeRecorder(Path(tmp) / mode, process=mode == "process")
            runs.append({"mode": mode, **loop_run(recorder, frames, ticks, rate_hz, realtime)})
    return {
        "codecs": codecs,
        "runs": runs,
        "rate_hz": rate_hz,
        "targets": {"lateness_p99_us": 300, "missed": 0, "drops": 0},
    }


# How `edgerun bench recorder` shows its two tables: (key path, column title).
CODEC_COLUMNS = [
    ("stream", "stream"),
    ("codec", "codec"),
    ("encode_ms", "encode ms"),
    ("ratio", "ratio"),
    ("kb", "KiB"),
]
LOOP_COLUMNS = [
    ("recording", "recording"),
    ("ticks", "ticks"),
    ("frames", "frames"),
    ("lateness_us.p50", "late p50 µs"),
    ("lateness_us.p99", "late p99 µs"),
    ("lateness_us.max", "late max µs"),
    ("missed", "missed"),
    ("drops", "drops"),
    ("mb_written", "MB"),
    ("drain_s", "drain s"),
]
