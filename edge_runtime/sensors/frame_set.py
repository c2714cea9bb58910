"""Frame sets: one frame per named camera, taken at the same instant. Pure logic, no devices.

A robot with a wrist camera and a scene camera must give its model two images of one instant:
an image pair 30 ms apart shows the arm in two places. `FrameSetMatcher` keeps the last few
frames of every camera and forms a set whenever one frame of each camera lies within
`tolerance_ms` of each other (the spread: newest minus oldest capture time). A set is never
formed across more than the tolerance, whatever the timestamps (backwards, repeated, NaN,
huge jumps): such frames are counted and left out. No frame is used in two sets, so sets come
at the slowest camera's rate.

Capture times: the device timestamps when every frame of the set counts on one shared clock
(`SHARED_CLOCKS`: simulated time, or RealSense global/system time, which are host
milliseconds), otherwise the host arrival times (a RealSense "hardware_clock" counts from the
camera's power-on: two cameras' counters cannot be compared).

`FrameSet` *is* the primary camera's `Frame` with the others attached (`cameras`), so every
consumer of a single frame (the inference worker, old bundles' `observation.rgbd`, the
recorder) keeps working unchanged on a multi-camera robot.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields

from edge_runtime.camera_config import DEFAULT_CAMERA
from edge_runtime.pipeline.stats import SampleBuffer
from edge_runtime.sensors.base import Frame

SHARED_CLOCKS = ("sim", "global_time", "system_time")
HISTORY_FRAMES = 4  # per camera: enough to pair a frame that arrived a few frames late


@dataclass(frozen=True)
class FrameSet(Frame):
    """The primary camera's frame (its fields), plus every camera's frame by name."""

    cameras: Mapping[str, Frame] = field(default_factory=dict)
    primary: str = DEFAULT_CAMERA
    skew_ms: float = 0.0  # newest minus oldest capture time in the set

    @classmethod
    def of(cls, frames: Mapping[str, Frame], primary: str, skew_ms: float) -> FrameSet:
        base = frames[primary]
        copied = {f.name: getattr(base, f.name) for f in fields(Frame)}
        return cls(**copied, cameras=dict(frames), primary=primary, skew_ms=skew_ms)


def camera_frames(frame: Frame, default_name: str = DEFAULT_CAMERA) -> Mapping[str, Frame]:
    """Every camera's frame by name: a set's members, or a lone frame under `default_name`."""
    if isinstance(frame, FrameSet):
        return frame.cameras
    return {default_name: frame}


def capture_time_ms(frames: Sequence[Frame]) -> list[float]:
    """The frames' capture times on one clock (see the module docstring)."""
    clocks = {f.device_clock for f in frames}
    if len(clocks) == 1 and clocks <= set(SHARED_CLOCKS):
        return [float(f.device_time_ms) for f in frames]
    return [f.host_time_ns / 1e6 for f in frames]


def spread_ms(frames: Sequence[Frame]) -> float:
    """Newest minus oldest capture time; NaN when any time is not a finite number."""
    times = capture_time_ms(frames)
    if not all(math.isfinite(t) for t in times):
        return math.nan
    return max(times) - min(times)


@dataclass
class FrameSetMatcher:
    """Forms the newest frame set from frames offered one at a time (see the module docstring).

    Not thread-safe: the caller serialises `offer` (`CameraSet` holds a lock).
    """

    names: Sequence[str]
    tolerance_ms: float
    primary: str = ""
    history: int = HISTORY_FRAMES
    sets: int = 0
    frames_offered: int = 0
    invalid_times: int = 0  # NaN or infinite timestamps: never paired
    skew_us: SampleBuffer = field(default_factory=lambda: SampleBuffer(20_000))
    _recent: dict[str, deque[Frame]] = field(default_factory=dict)
    _last_used_ns: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.names:
            raise ValueError("a frame set needs at least one camera")
        if not (self.tolerance_ms >= 0.0 and math.isfinite(self.tolerance_ms)):
            raise ValueError(f"tolerance_ms must be a finite number >= 0, got {self.tolerance_ms}")
        self.primary = self.primary or self.names[0]
        self._recent = {name: deque(maxlen=self.history) for name in self.names}

    def offer(self, name: str, frame: Frame) -> FrameSet | None:
        """Take camera `name`'s new frame; the newest complete set it makes, if any."""
        self.frames_offered += 1
        if frame.device_clock in SHARED_CLOCKS and not math.isfinite(frame.device_time_ms):
            self.invalid_times += 1
            return None
        self._recent[name].append(frame)
        chosen = {name: frame}
        for other in self.names:
            if other == name:
                continue
            best = self._nearest(other, frame)
            if best is None:
                return None
            chosen[other] = best
        members = [chosen[n] for n in self.names]
        spread = spread_ms(members)
        if not spread <= self.tolerance_ms:  # also rejects NaN
            return None
        # Arrival order, not capture time: it is one clock whatever the cameras report.
        arrivals = [f.host_time_ns for f in members]
        if any(t <= self._last_used_ns.get(n, -1) for n, t in zip(self.names, arrivals)):
            return None  # a frame already used, or older than one that was
        self._last_used_ns.update(zip(self.names, arrivals))
        self.sets += 1
        self.skew_us.add(round(spread * 1000))
        return FrameSet.of({n: chosen[n] for n in self.names}, self.primary, spread)

    def _nearest(self, name: str, anchor: Frame) -> Frame | None:
        """Camera `name`'s recent frame closest in capture time to `anchor` (None: none)."""
        best, best_gap = None, math.inf
        for candidate in self._recent[name]:
            gap = spread_ms([anchor, candidate])
            if gap < best_gap:  # NaN never compares smaller
                best, best_gap = candidate, gap
        return best

    def reset(self, name: str) -> None:
        """Forget a camera's frames and last use (it reconnected: its clock may restart)."""
        self._recent[name].clear()
        self._last_used_ns.pop(name, None)

    def stats(self) -> dict[str, float | int]:
        """Sets formed, frames left out, and the skew p50/p99/max in milliseconds."""
        # skew_us holds microseconds; percentiles_us divides by 1000, so these are milliseconds
        skew = self.skew_us.percentiles_us(50, 99)
        return {
            "sets": self.sets,
            "frames": self.frames_offered,
            "frames_unused": self.frames_offered - self.sets * len(self.names),
            "invalid_times": self.invalid_times,
            "tolerance_ms": self.tolerance_ms,
            "skew_p50_ms": round(skew["p50"], 3),
            "skew_p99_ms": round(skew["p99"], 3),
            "skew_max_ms": round(skew["max"], 3),
        }
