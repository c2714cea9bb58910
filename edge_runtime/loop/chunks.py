"""The action-chunk queue: a time-indexed plan the control thread samples every period.

Chunks are stamped with the observation time they answer; action k is meant for
``t_obs + k*dt``. By the time a chunk arrives, inference latency has already eaten its first
actions, so those are dropped (counted) instead of being replayed late. Where the new chunk
overlaps what is left of the previous plan, the two are cross-faded linearly over the overlap,
so a new chunk never makes the arm jump.

One writer (the inference worker) builds a new immutable plan and swaps it in with a single
reference assignment; the reader (control thread) never waits for the writer's computation.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from edge_runtime.pipeline.observer import ActionChunk


@dataclass(frozen=True)
class Plan:
    times_ns: np.ndarray  # (K,) int64, strictly increasing
    actions: np.ndarray  # (K, J)
    t_obs_ns: int  # observation behind the newest chunk in the plan
    hold_ns: int = 0  # > 0: each action is held this long (zero-order hold), else linear

    def sample(self, t_ns: int) -> np.ndarray | None:
        """The target at `t_ns` (held or interpolated); None once the plan is exhausted."""
        times = self.times_ns
        if self.hold_ns:
            if t_ns >= times[-1] + self.hold_ns:
                return None
            return self.actions[max(int(np.searchsorted(times, t_ns, side="right")) - 1, 0)].copy()
        if t_ns >= times[-1]:
            return self.actions[-1].copy() if t_ns == times[-1] else None
        if t_ns <= times[0]:
            return self.actions[0].copy()
        i = int(np.searchsorted(times, t_ns, side="right"))
        t0, t1 = times[i - 1], times[i]
        w = (t_ns - t0) / (t1 - t0)
        return (1.0 - w) * self.actions[i - 1] + w * self.actions[i]


@dataclass(frozen=True)
class ChunkCounts:
    """What happened to the chunks that reached the queue."""

    received: int = 0
    discarded: int = 0  # entirely in the past, or older than the plan
    actions_dropped: int = 0  # eaten by latency before they arrived
    actions_blended: int = 0  # cross-faded with the previous plan


class ChunkQueue:
    """`hold`: each action is the target for its whole dt (how the reference policies were
    trained and are evaluated); otherwise targets are interpolated linearly between actions."""

    def __init__(self, joints: int, hold: bool = False) -> None:
        self.joints = joints
        self.hold = hold
        self._plan: Plan | None = None
        self._write_lock = threading.Lock()
        self.chunks_received = 0
        self.actions_dropped = 0  # actions already in the past when their chunk arrived
        self.chunks_discarded = 0  # chunks entirely in the past, or older than the plan
        self.actions_blended = 0

    def push(self, chunk: ActionChunk, now_ns: int) -> None:
        actions = np.asarray(chunk.actions, dtype=np.float64)
        if actions.ndim != 2 or actions.shape[1] != self.joints:
            raise ValueError(f"chunk actions must be (H, {self.joints}), got {actions.shape}")
        with self._write_lock:
            self.chunks_received += 1
            old = self._plan
            if old is not None and chunk.t_obs_ns <= old.t_obs_ns:
                self.chunks_discarded += 1  # out of order: a newer observation already planned
                return
            times = chunk.t_obs_ns + chunk.dt_ns * np.arange(len(actions), dtype=np.int64)
            # Keep one action at or before `now` so the reader can interpolate into the present.
            first = max(int(np.searchsorted(times, now_ns, side="right")) - 1, 0)
            self.actions_dropped += first
            times, actions = times[first:], actions[first:]
            hold_ns = chunk.dt_ns if self.hold else 0
            if times[-1] + hold_ns < now_ns:
                self.chunks_discarded += 1
                return
            if old is not None:
                actions = self._blend(old, times, actions, now_ns)
            self._plan = Plan(times, actions, chunk.t_obs_ns, hold_ns)

    def _blend(self, old: Plan, times: np.ndarray, new: np.ndarray, now_ns: int) -> np.ndarray:
        """Cross-fade from the old plan to the new one over their common future."""
        overlap_end = min(int(old.times_ns[-1]), int(times[-1]))
        start = max(now_ns, int(times[0]))
        if overlap_end <= start:
            return new
        blended = new.copy()
        for k, t in enumerate(times):
            if t > overlap_end:
                break
            previous = old.sample(int(t))
            if previous is None:
                break
            w_new = 0.0 if t <= start else (t - start) / (overlap_end - start)
            blended[k] = (1.0 - w_new) * previous + w_new * new[k]
            self.actions_blended += 1
        return blended

    def counts(self) -> ChunkCounts:
        return ChunkCounts(
            self.chunks_received, self.chunks_discarded, self.actions_dropped, self.actions_blended
        )

    def action_at(self, t_ns: int) -> np.ndarray | None:
        """The planned joint positions for `t_ns`, or None when nothing is planned for then."""
        plan = self._plan
        return None if plan is None else plan.sample(t_ns)

    @property
    def newest_observation_ns(self) -> int | None:
        plan = self._plan
        return None if plan is None else plan.t_obs_ns

    def clear(self) -> None:
        with self._write_lock:
            self._plan = None
