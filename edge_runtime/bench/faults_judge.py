"""Judging one fault run from outside the runtime: the servos' witness and the episode log.

Unsafe commands are judged at the servos (`ServoWitness`), against the robot config's limits:
a goal a servo accepted while driving (torque on, not stopped by its watchdog) that lies
outside the joint's range, or that moved further from the previous goal than
`max_velocity_rad_s` allows in the whole periods between the two (a goal lost on the wire
doubles the next step, and that is still within the velocity). One tick of quantisation is
allowed either way.

"Stopped" is the moment from which no servo drives any more until the end: each one has
torque off (the runtime's torque-off, or its own hardware-error shutdown) or was stopped by
its bus watchdog (goal := present; torque stays on and the arm holds: what a real servo does
when nobody can reach it, e.g. with the USB adapter gone).

Records lost: tick records missing from the log *before the last one it holds*, that the log
does not itself declare as dropped (`drops` records: the disk was too slow) and the run did
not count as dropped in its tick ring. What comes after the last record (a torn tail, the
records still in flight when the recorder was killed) is not a loss before the last sync.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from firmware_bridge.dynamixel.control_table import CENTER_TICKS, RAD_PER_TICK

Entry = tuple[int, int, str, int]  # firmware_bridge.sim.servo_witness
TOLERANCE_RAD = 1.5 * RAD_PER_TICK  # rounding to ticks, either side


@dataclass(frozen=True)
class JointLimits:
    lower_rad: np.ndarray
    upper_rad: np.ndarray
    max_step_rad: np.ndarray  # per control period: max_velocity_rad_s * period_s
    period_ns: int


@dataclass(frozen=True)
class WitnessVerdict:
    unsafe_commands: int
    examples: tuple[str, ...]  # the first few, in words
    stopped_ns: int | None  # None: some servo still drives at the end
    stopped_by: tuple[str, ...]  # how the servos ended: "torque off", "watchdog", "shutdown"
    driving_at_end: tuple[int, ...]  # servo ids: must be empty once the run is over
    goals: int  # goals accepted during the run


def judge_witness(
    entries: Sequence[Entry], ids: Sequence[int], limits: JointLimits
) -> WitnessVerdict:
    """See the module docstring; `entries` are one run's, oldest first."""
    index = {servo_id: k for k, servo_id in enumerate(ids)}
    torque = dict.fromkeys(ids, 0)
    held = dict.fromkeys(ids, False)
    ended_by = dict.fromkeys(ids, "torque off")
    last_goal: dict[int, tuple[int, float]] = {}
    unsafe, examples, goals = 0, [], 0
    stopped_ns: int | None = None
    for t_ns, servo_id, kind, value in sorted(entries):
        if servo_id not in index:
            continue
        if kind == "goal":
            goals += 1
            rad = (value - CENTER_TICKS) * RAD_PER_TICK
            problem = _unsafe(rad, last_goal.get(servo_id), t_ns, index[servo_id], limits)
            last_goal[servo_id] = (t_ns, rad)
            if problem and torque[servo_id] and not held[servo_id]:
                unsafe += 1
                if len(examples) < 5:
                    examples.append(f"servo {servo_id}: {problem}")
            continue
        if kind == "torque":
            torque[servo_id] = value
            held[servo_id] = held[servo_id] and not value
            ended_by[servo_id] = "torque off"
        elif kind == "shutdown":
            torque[servo_id] = 0
            ended_by[servo_id] = "shutdown"
        elif kind == "watchdog":
            held[servo_id] = True
            ended_by[servo_id] = "watchdog"
        driving = any(torque[i] and not held[i] for i in ids)
        stopped_ns = None if driving else (stopped_ns or t_ns)
    driving_at_end = tuple(i for i in ids if torque[i] and not held[i])
    return WitnessVerdict(
        unsafe_commands=unsafe,
        examples=tuple(examples),
        stopped_ns=None if driving_at_end else stopped_ns,
        stopped_by=tuple(sorted(set(ended_by.values()))),
        driving_at_end=driving_at_end,
        goals=goals,
    )


def _unsafe(
    rad: float, previous: tuple[int, float] | None, t_ns: int, joint: int, limits: JointLimits
) -> str:
    lower, upper = limits.lower_rad[joint], limits.upper_rad[joint]
    if not lower - TOLERANCE_RAD <= rad <= upper + TOLERANCE_RAD:
        return f"goal {rad:.4f} rad outside [{lower:.3f}, {upper:.3f}]"
    if previous is None:
        return ""
    t_prev, rad_prev = previous
    periods = max(1, round((t_ns - t_prev) / limits.period_ns))
    allowed = limits.max_step_rad[joint] * periods + TOLERANCE_RAD
    if abs(rad - rad_prev) > allowed:
        return f"step {abs(rad - rad_prev):.4f} rad in {periods} period(s), limit {allowed:.4f}"
    return ""


@dataclass
class LogLoss:
    ticks: int = 0  # tick records read
    last_tick: int = -1
    holes: int = 0  # ticks missing before the last one read
    declared: int = 0  # records the log or the run said were dropped
    problems: list[str] = field(default_factory=list)  # damage the reader reported
    error: str = ""  # the log could not be read at all

    @property
    def records_lost(self) -> int:
        return max(0, self.holes - self.declared)


def log_loss(record_dir: str | Path, ring_dropped: int = 0) -> LogLoss:
    """What the episode log lost before its last record (see the module docstring)."""
    from edge_runtime.recording.format import LogError
    from edge_runtime.recording.reader import LogReader

    loss = LogLoss(declared=ring_dropped)
    seen: set[int] = set()
    try:
        reader = LogReader(record_dir)
        for record in reader:
            kind = record.get("k")
            if kind == "tick":
                seen.add(int(record["i"]))
            elif kind == "drops" and record.get("lane") == "record":
                loss.declared += int(record.get("count", 0))
        loss.problems = reader.report.problems()
    except LogError as exc:
        loss.error = str(exc)
        return loss
    loss.ticks = len(seen)
    loss.last_tick = max(seen, default=-1)
    loss.holes = loss.last_tick + 1 - len(seen)
    return loss
