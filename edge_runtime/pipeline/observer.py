"""What the loop tells the outside world: `LoopObserver`s (recorder, telemetry, reports).

The control step reads as a sentence and calls observers at the end; it never knows what they
do. `on_tick` runs on the control thread and must return in microseconds (queue and return);
`on_frame` and `on_chunk` run on the inference worker. Observers never raise into the loop:
the runtime counts and logs an observer's exception and goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from edge_runtime.sensors.base import Frame

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActionChunk:
    """Actions answering the observation taken at `t_obs_ns`: action k is for t_obs + k*dt."""

    t_obs_ns: int
    dt_ns: int
    actions: np.ndarray  # (H, J) joint positions in radians
    inference_ns: int = 0  # wall time the worker spent producing it
    frame_number: int = -1
    joint_positions: np.ndarray | None = None  # what the policy was given (replay uses it)
    world_model: Mapping[str, float] = field(default_factory=dict)  # surprise, plan costs

    def time_of(self, index: int) -> int:
        return self.t_obs_ns + index * self.dt_ns

    @property
    def end_ns(self) -> int:
        return self.time_of(len(self.actions) - 1)


@dataclass(frozen=True)
class TickRecord:
    """Everything about one control tick, for recording and reports."""

    index: int
    deadline_ns: int
    start_ns: int
    lateness_ns: int
    missed: int  # periods skipped just before this tick
    positions_rad: np.ndarray  # measured
    velocities_rad_s: np.ndarray
    currents_a: np.ndarray
    command_rad: np.ndarray  # what was sent after the safety filter
    proposed_rad: np.ndarray  # what the policy asked for (NaN when holding)
    mode: str  # "run" | "hold" | "stop"
    step_ns: int  # time spent in this tick's work


class LoopObserver:
    """Base class with no-op hooks; subclass and override what you need."""

    def on_start(self, joint_names: list[str], period_s: float) -> None:
        """Before the first tick."""

    def on_tick(self, record: TickRecord) -> None:
        """Control thread, every tick: must not block."""

    def on_frame(self, frame: Frame) -> None:
        """Inference worker: the frame about to be used for a chunk."""

    def on_chunk(self, chunk: ActionChunk) -> None:
        """Inference worker: a new chunk entered the queue."""

    def on_event(self, kind: str, detail: str, stamp_ns: int) -> None:
        """Safety events and faults (clamps, holds, stops, errors), from any thread."""

    def on_stop(self) -> None:
        """After the last tick and torque off."""


class ObserverFanout(LoopObserver):
    """Calls every observer; an observer that raises is logged, counted and never kills the loop."""

    def __init__(self, observers: list[LoopObserver]) -> None:
        self.observers = list(observers)
        self.failures = 0

    def _each(self, method: str, *args: object) -> None:
        for observer in self.observers:
            try:
                getattr(observer, method)(*args)
            except Exception:
                self.failures += 1
                if self.failures <= 10:  # log the first few, count them all
                    _log.exception("observer %s.%s failed", type(observer).__name__, method)

    def on_start(self, joint_names: list[str], period_s: float) -> None:
        self._each("on_start", joint_names, period_s)

    def on_tick(self, record: TickRecord) -> None:
        self._each("on_tick", record)

    def on_frame(self, frame: Frame) -> None:
        self._each("on_frame", frame)

    def on_chunk(self, chunk: ActionChunk) -> None:
        self._each("on_chunk", chunk)

    def on_event(self, kind: str, detail: str, stamp_ns: int) -> None:
        self._each("on_event", kind, detail, stamp_ns)

    def on_stop(self) -> None:
        self._each("on_stop")
