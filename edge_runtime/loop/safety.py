"""The safety filter: every command passes through here, every period, before it is sent.

Rules, in order:
1. No usable plan (empty queue), a stale observation, an unreadable joint state or a
   non-finite action → *hold*:
   command the last safe position. Holding longer than `hold_timeout_s` → *stop*: the runtime
   ends the run and turns torque off. Before the first usable plan the wait may be longer
   (`first_plan_timeout_s`), never endless.
2. Position limits: a target outside a joint's limits is clamped and counted, never sent raw.
3. Step limit: a target further than `max_velocity * period` from the last command is clamped
   to that step and counted, so a bad chunk cannot fling the arm.
Every rule that fires is an event with a reason; counts go in the run report.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

HOLD_REASONS = ("empty_queue", "stale_observation", "bad_state")


@dataclass(frozen=True)
class SafetyLimits:
    lower_rad: np.ndarray
    upper_rad: np.ndarray
    max_step_rad: np.ndarray  # per control period
    hold_timeout_ns: int
    # Before the first usable plan, holding is expected (the first frame, the first chunk)
    # but not forever: a camera that freezes, or chunks that always arrive too late to use,
    # would otherwise keep the arm powered and holding with nobody told.
    first_plan_timeout_ns: int = 5_000_000_000

    @staticmethod
    def from_joints(
        lower: list[float],
        upper: list[float],
        max_velocity: list[float],
        period_s: float,
        hold_timeout_s: float,
        first_plan_timeout_s: float = 5.0,
    ) -> SafetyLimits:
        return SafetyLimits(
            lower_rad=np.asarray(lower, float),
            upper_rad=np.asarray(upper, float),
            max_step_rad=np.asarray(max_velocity, float) * period_s,
            hold_timeout_ns=int(hold_timeout_s * 1e9),
            first_plan_timeout_ns=int(max(first_plan_timeout_s, hold_timeout_s) * 1e9),
        )


@dataclass(frozen=True)
class Command:
    target_rad: np.ndarray
    mode: str  # "run" | "hold" | "stop"
    events: tuple[tuple[str, str], ...] = ()


@dataclass
class SafetyFilter:
    limits: SafetyLimits
    counts: Counter[str] = field(default_factory=Counter)
    _last: np.ndarray | None = None
    _hold_since_ns: int | None = None
    hold_reason: str = ""  # why the last held command held (what the tick record says)
    _armed: bool = False

    def start(self, measured_rad: np.ndarray) -> None:
        """Begin from where the arm is, so the first command does not move it."""
        self._last = np.clip(
            np.asarray(measured_rad, float), self.limits.lower_rad, self.limits.upper_rad
        )
        self._hold_since_ns = None

    def arm(self) -> None:
        """Holds count towards the stop timeout from now on (not while awaiting the first chunk)."""
        self._armed = True

    @property
    def last_command(self) -> np.ndarray | None:
        return None if self._last is None else self._last.copy()

    def filter(
        self, proposed_rad: np.ndarray | None, hold_reason: str | None, now_ns: int
    ) -> Command:
        if self._last is None:
            raise RuntimeError("SafetyFilter.start() must be called with the measured position")
        events: list[tuple[str, str]] = []
        target = None if proposed_rad is None else np.asarray(proposed_rad, float)
        if hold_reason is None and target is not None and not np.all(np.isfinite(target)):
            hold_reason = "non_finite_action"  # a hold like any other: it times out
        if hold_reason is not None or target is None:
            reason = hold_reason or "empty_queue"
            return self._hold(reason, now_ns, events)
        if self._hold_since_ns is not None:
            events.append(("resume", "plan available again"))
            self._hold_since_ns = None
        clamped = np.clip(target, self.limits.lower_rad, self.limits.upper_rad)
        if np.any(clamped != target):
            joints = np.flatnonzero(clamped != target).tolist()
            events.append(("clamp_position", f"joints {joints} outside limits"))
        step = np.clip(clamped - self._last, -self.limits.max_step_rad, self.limits.max_step_rad)
        if np.any(np.abs(step - (clamped - self._last)) > 1e-12):
            joints = np.flatnonzero(np.abs(step - (clamped - self._last)) > 1e-12).tolist()
            events.append(("clamp_step", f"joints {joints} faster than max velocity"))
        self._last = self._last + step
        self._count(events)
        return Command(self._last.copy(), "run", tuple(events))

    def _hold(self, reason: str, now_ns: int, events: list[tuple[str, str]]) -> Command:
        assert self._last is not None
        self.hold_reason = reason
        if self._hold_since_ns is None:
            self._hold_since_ns = now_ns
            events.append(("hold", reason))
            self.counts[f"hold:{reason}"] += 1
        held_ns = now_ns - self._hold_since_ns
        self.counts["hold_ticks"] += 1
        limits = self.limits
        timeout_ns = limits.hold_timeout_ns if self._armed else limits.first_plan_timeout_ns
        if held_ns > timeout_ns:
            before = "" if self._armed else ", no usable plan since the start"
            events.append(("stop", f"{reason} for {held_ns / 1e6:.0f} ms{before}"))
            self._count(events)
            return Command(self._last.copy(), "stop", tuple(events))
        self._count(events)
        return Command(self._last.copy(), "hold", tuple(events))

    def _count(self, events: list[tuple[str, str]]) -> None:
        for kind, _ in events:
            self.counts[kind] += 1
