"""The `Camera` port.

A camera owns a capture thread that keeps only the newest frame in a `LatestSlot`, so
`read_latest` never blocks the control thread or the inference worker. Implementations fill
`_open`, `_capture` and `_close`; the base class owns the thread, counters and age checks.
"""

from __future__ import annotations

import abc
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

import numpy as np

from edge_runtime.errors import CameraError, StaleFrameError
from edge_runtime.ipc.latest_slot import LatestSlot
from edge_runtime.loop.clock import Clock, MonotonicClock

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics of one stream at one resolution (RealSense naming)."""

    width: int
    height: int
    fx: float
    fy: float
    ppx: float
    ppy: float
    model: str = "brown_conrady"
    coeffs: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0, 0.0)

    def matrix(self) -> np.ndarray:
        return np.array([[self.fx, 0, self.ppx], [0, self.fy, self.ppy], [0, 0, 1]], float)


@dataclass(frozen=True)
class Frame:
    """One aligned RGB-D observation.

    `color` is HxWx3 uint8 RGB; `depth` is HxW uint16 raw units aligned to color, metres =
    raw * `depth_scale_m`. `host_time_ns` is the camera's clock (monotonic) at arrival;
    `device_time_ms` is the device's capture timestamp and `device_clock` says what it counts
    (RealSense domains: "global_time" and "system_time" are host wall-clock milliseconds, so
    with the log's UTC anchor they give the camera pipeline's latency; "hardware_clock" is the
    camera's own counter; "sim" is simulated time; "" unknown). `camera` names the camera
    when several feed one robot (set by `CameraSet`, kept in logs).
    """

    color: np.ndarray
    depth: np.ndarray
    depth_scale_m: float
    intrinsics: Intrinsics
    device_time_ms: float
    host_time_ns: int
    frame_number: int
    device_clock: str = ""
    camera: str = ""  # the camera's name on a multi-camera robot ("" alone: the only one)

    def depth_m(self) -> np.ndarray:
        return self.depth.astype(np.float32) * np.float32(self.depth_scale_m)

    def age_s(self, now_ns: int | None = None) -> float:
        now = time.monotonic_ns() if now_ns is None else now_ns
        return (now - self.host_time_ns) / 1e9


class Camera(abc.ABC):
    """Start, read the newest frame, stop. Context manager; `stop()` is idempotent."""

    def __init__(self, name: str = "camera", clock: Clock | None = None) -> None:
        self.name = name
        # Frames are stamped on this clock: the runtime's, so frame ages are measured on the
        # same time base as the control loop (a simulated clock in tests).
        self.clock: Clock = clock if clock is not None else MonotonicClock()
        self._slot: LatestSlot[Frame] = LatestSlot()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.frames_captured = 0
        self.capture_errors = 0
        self.last_error: str | None = None
        # Set by the runtime: an unexpected error in the capture thread stops the robot
        # safely instead of leaving it to notice stale frames later.
        self.on_fault: Callable[[str, BaseException], None] | None = None
        # Called on the capture thread with each new frame (a `CameraSet` matches frames here,
        # so no frame a slot overwrote is missed); must return quickly.
        self.on_frame: Callable[[Frame], None] | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._open()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"{self.name}-capture", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                frame = self._capture()
            except CameraError as exc:
                self.capture_errors += 1
                self.last_error = str(exc)
                log.warning("%s: %s", self.name, exc)
                self._stop.wait(0.1)
                continue
            except BaseException as exc:
                self.last_error = repr(exc)
                log.exception("%s: capture thread failed", self.name)
                if self.on_fault is not None:
                    self.on_fault(f"{self.name} capture thread failed", exc)
                return
            if frame is not None:
                self.deliver(frame)

    def deliver(self, frame: Frame) -> None:
        """A new frame: count it, make it the newest, tell the listener. Normally called by the
        capture thread; a device that captures for several cameras at once (one trigger)
        delivers to the others itself."""
        self.frames_captured += 1
        self._slot.put(frame)
        if self.on_frame is not None:
            self.on_frame(frame)

    def read_latest(self, max_age_s: float) -> Frame:
        """The newest frame; raises `StaleFrameError` when none is younger than `max_age_s`."""
        frame, _ = self._slot.get()
        if frame is None:
            raise StaleFrameError(f"{self.name} has not delivered a frame yet")
        age = frame.age_s(self.clock.now_ns())
        if age > max_age_s:
            raise StaleFrameError(
                f"{self.name}'s newest frame is {age * 1000:.0f} ms old (limit "
                f"{max_age_s * 1000:.0f} ms)"
            )
        return frame

    def wait_frame(self, after_version: int, timeout_s: float) -> tuple[Frame | None, int]:
        """For the inference worker: block until a frame newer than `after_version` arrives."""
        return self._slot.wait_newer(after_version, timeout_s)

    def stop(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join(timeout=2.0)
        self._close()

    @abc.abstractmethod
    def _open(self) -> None:
        """Open the device or recording; raise `CameraError` with a clear sentence."""

    @abc.abstractmethod
    def _capture(self) -> Frame | None:
        """Block until the next frame (bounded wait); None when nothing arrived in time."""

    @abc.abstractmethod
    def _close(self) -> None:
        """Release the device."""

    def __enter__(self) -> Camera:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
