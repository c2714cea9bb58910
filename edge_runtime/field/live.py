"""What a running robot shows a watcher: a small status snapshot on disk, rewritten at 5 Hz.

The field console (`edgerun console`) must see a run live without ever sitting in the
control path, so the runtime publishes and the console only reads. `LiveStatus` is a
`LoopObserver` in the runtime process (the control loop runs in its own process and never
hears of it): its hooks only store the newest values under a lock, and a thread of its own
writes `<run dir>/live/status.json` (temporary file + rename, no fsync: it is gone in a
second anyway) at most `RATE_HZ` times a second. The run directory is in RAM when there is
one (`/run/edge-runtime`, see `live_dir`): these writes never wear the robot's flash.

Camera previews cost more (a downscaled RGB frame as `.npy`), so they are written only while
a watcher says it is looking: the console touches `live/viewer` on every poll, and frames
stop within `VIEWER_FRESH_S` after the last browser closes. `run.json` says which process
publishes, so a reader can tell a live run from the leftovers of one that was killed.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.field.latch import utc_now
from edge_runtime.field.state_dir import resolve_runtime_dir
from edge_runtime.pipeline.observer import ActionChunk, LoopObserver, TickRecord
from edge_runtime.sensors.base import Frame
from edge_runtime.sensors.frame_set import camera_frames

log = logging.getLogger(__name__)

LIVE_DIR = "live"
STATUS_FILE = "status.json"
RUN_FILE = "run.json"
VIEWER_FILE = "viewer"
RATE_HZ = 5.0
VIEWER_FRESH_S = 3.0
PREVIEW_STRIDE = 2  # every second pixel: a 640x480 camera previews at 320x240
EVENTS_KEPT = 20


def live_dir(state_dir: Path) -> Path:
    """The live files of the robot whose state is in `state_dir`: in RAM when there is a run
    directory (`edge_runtime.field.state_dir.resolve_runtime_dir`), never on flash then."""
    return resolve_runtime_dir(Path(state_dir)) / LIVE_DIR


def preview_path(live_dir: Path, camera: str) -> Path:
    return live_dir / f"camera-{camera}.npy"


def write_replacing(path: Path, payload: bytes) -> None:
    """Temporary file + rename: a reader sees the old file or the new one, never half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(payload)
    os.replace(tmp, path)


class LiveStatus(LoopObserver):
    """Keeps the newest loop values and writes them out at `RATE_HZ` from its own thread."""

    def __init__(self, state_dir: Path, robot: str, bundle: str, camera: str = "camera") -> None:
        self.live_dir = live_dir(state_dir)
        self.robot, self.bundle, self.camera = robot, bundle, camera
        self._lock = threading.Lock()
        self._values: dict[str, Any] = {"state": "starting", "ticks": 0, "missed_total": 0}
        self._events: collections.deque[dict[str, Any]] = collections.deque(maxlen=EVENTS_KEPT)
        self._event_counts: collections.Counter[str] = collections.Counter()
        self._window_lateness_ns: list[int] = []
        self._frame: Frame | None = None
        self._previewed = -1  # the frame number last written as a preview
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_ns = time.monotonic_ns()

    def __enter__(self) -> LiveStatus:
        try:
            self.live_dir.mkdir(parents=True, exist_ok=True)
            run = {"pid": os.getpid(), "robot": self.robot, "bundle": self.bundle}
            write_replacing(self.live_dir / RUN_FILE, json.dumps({**run, "at": utc_now()}).encode())
        except OSError as exc:  # a read-only state dir must not keep the robot from running
            log.warning("live status not published (%s): the console will not see this run", exc)
            return self
        self._thread = threading.Thread(target=self._publish, name="edgerun-live", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self.on_stop()  # also when the run never started (a bundle refused, a bad port)
            self._write_status()  # the final state is what a watcher sees next

    def on_start(self, joint_names: list[str], period_s: float) -> None:
        with self._lock:
            self._values.update(state="running", joints=list(joint_names), period_s=period_s)

    def on_tick(self, record: TickRecord) -> None:
        with self._lock:
            self._window_lateness_ns.append(record.lateness_ns)
            values = self._values
            values["ticks"] = record.index + 1
            values["missed_total"] += record.missed
            values["mode"] = record.mode
            values["command_rad"] = record.command_rad
            if np.isfinite(record.positions_rad).all():  # the newest reading that worked
                values["positions_rad"] = record.positions_rad
            else:
                values["failed_reads"] = values.get("failed_reads", 0) + 1

    def on_frame(self, frame: Frame) -> None:
        self._frame = frame  # one reference swap; the writer thread downsamples

    def on_chunk(self, chunk: ActionChunk) -> None:
        with self._lock:
            self._values["inference_ms"] = chunk.inference_ns / 1e6
            self._values["chunks"] = self._values.get("chunks", 0) + 1
            self._values["world_model"] = {k: _number(v) for k, v in chunk.world_model.items()}

    def on_event(self, kind: str, detail: str, stamp_ns: int) -> None:
        with self._lock:
            self._event_counts[kind] += 1
            at_s = (time.monotonic_ns() - self._start_ns) / 1e9
            self._events.appendleft({"kind": kind, "detail": detail, "at_s": round(at_s, 2)})
            if kind in ("stop", "fault"):
                self._values["stop_reason"] = f"{kind}: {detail}"

    def on_stop(self) -> None:
        with self._lock:
            self._values["state"] = "stopped"

    def snapshot(self) -> dict[str, Any]:
        """The values a watcher sees, as plain JSON types; resets the lateness window."""
        with self._lock:
            lateness, self._window_lateness_ns = self._window_lateness_ns, []
            values = dict(self._values)
            events, counts = list(self._events), dict(self._event_counts)
        for key in ("positions_rad", "command_rad"):
            if key in values:
                values[key] = [_number(v) for v in values[key]]
        if lateness:
            late = np.asarray(lateness) / 1e3
            values["lateness_us"] = {"max": float(late.max()), "mean": float(late.mean())}
        frame = self._frame
        frames = {} if frame is None else camera_frames(frame, self.camera)
        cameras = [{"name": name, "frame": f.frame_number} for name, f in frames.items()]
        return {
            **values,
            "robot": self.robot,
            "bundle": self.bundle,
            "pid": os.getpid(),
            "updated_at": utc_now(),
            "updated_unix_s": time.time(),
            "events": events,
            "event_counts": counts,
            "cameras": cameras,
        }

    def _publish(self) -> None:
        period_s = 1.0 / RATE_HZ
        while not self._stop.wait(period_s):
            try:
                self._write_status()
                if self._viewer_fresh():
                    self._write_preview()
            except Exception as exc:  # never take the run down; say it once a second at most
                log.warning("live status write failed: %s", exc)

    def _write_status(self) -> None:
        payload = json.dumps(self.snapshot(), allow_nan=False).encode("utf-8")
        write_replacing(self.live_dir / STATUS_FILE, payload)

    def _viewer_fresh(self) -> bool:
        try:
            touched = (self.live_dir / VIEWER_FILE).stat().st_mtime
        except OSError:
            return False
        return time.time() - touched < VIEWER_FRESH_S

    def _write_preview(self) -> None:
        """Every camera of the newest frame (a frame set holds each camera's by name)."""
        frame = self._frame
        if frame is None or frame.frame_number == self._previewed:
            return  # a stalled camera costs no writes
        self._previewed = frame.frame_number
        for name, member in camera_frames(frame, self.camera).items():
            small = np.ascontiguousarray(member.color[::PREVIEW_STRIDE, ::PREVIEW_STRIDE])
            path = preview_path(self.live_dir, name)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            with tmp.open("wb") as handle:
                np.save(handle, small, allow_pickle=False)
            os.replace(tmp, path)


def _number(value: float) -> float | None:
    """JSON has no NaN (a joint that was not read): browsers get null instead."""
    number = float(value)
    return round(number, 4) if np.isfinite(number) else None
