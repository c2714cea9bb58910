"""`RuntimeSettings`: everything a run needs to know, built once from the robot config.

One frozen object crosses from the config (`edge_runtime.robot.runtime_settings`) to the
runtime process and, pickled, to the control process: nothing is copied field by field, so a
setting added here reaches every place that reads it.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge_runtime.loop.safety import SafetyLimits


@dataclass(frozen=True)
class RuntimeSettings:
    period_s: float
    limits: SafetyLimits
    stale_observation_s: float  # a plan older than this (from its camera frame) -> hold
    joint_names: tuple[str, ...]
    chunk_length: int
    chunk_hold: bool = False  # hold each action for its dt (the bundle's interpolation)
    max_frame_age_s: float = 0.25  # the inference worker skips older frames
    max_tracking_error_rad: float = 0.5  # measured vs last command beyond this -> hold
    warmup_timeout_s: float = 120.0  # loading the models may take this long
    realtime: bool = True  # SCHED_FIFO, own CPU, locked memory for the control process
    realtime_priority: int | None = 80

    def __post_init__(self) -> None:
        object.__setattr__(self, "joint_names", tuple(self.joint_names))

    @property
    def joints(self) -> int:
        return len(self.joint_names)

    def ticks_for(self, duration_s: float | None) -> int | None:
        """Control periods in `duration_s` (None: run until stopped)."""
        return None if duration_s is None else round(duration_s / self.period_s)
