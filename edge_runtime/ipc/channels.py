"""What crosses between the runtime process and the control process, in shared memory.

- chunks: the inference worker's newest action chunk (latest-value slot, stamped).
- joints: the control loop's newest joint state, for the inference worker (latest-value).
- ticks: one record per control tick, for observers in the runtime process (a ring).
- history: the last `HISTORY` ticks' measured positions and sent commands, stamped (a
  latest-value slot): the inference worker reads the joints *at a frame's capture time* (the
  newest state may be 10-20 ms later, i.e. 10-20 mrad away on a moving arm) and the surprise
  monitor what was actually commanded between two frames.
- stop: one flag either side sets; the control process then turns torque off and exits.
- emergency: set with `stop` when the run ends in a safety stop or a fault, so the control
  process latches the motors' own e-stop (an MCU's) before torque off.
- attached: the control process sets it first thing; the runtime then unlinks every name, so
  a kill of the whole process group leaves nothing in /dev/shm (`edge_runtime.ipc.names`).
The control process never blocks on any of them (`SharedArraySlot.get` and
`SharedRing.append` give up rather than wait), so a busy runtime process cannot delay a tick.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from edge_runtime.ipc.shared_flag import SharedFlag
from edge_runtime.ipc.shared_ring import SharedRing
from edge_runtime.ipc.shared_slot import SharedArraySlot
from edge_runtime.pipeline.observer import ActionChunk, TickRecord
from firmware_bridge.base import JointState

MODES = ("run", "hold", "stop")
# Safety events carried in each tick record as bits; hold reasons as a code.
EVENTS = ("clamp_position", "clamp_step", "hold", "stop", "resume", "bus_error")
HOLD_REASONS = (
    "",
    "empty_queue",
    "stale_observation",
    "bad_state",
    "tracking_error",
    "non_finite_action",
)
TICK_CAPACITY = 4096  # 40 s at 100 Hz between drains before records are lost (counted)
HISTORY = 64  # 0.64 s at 100 Hz: more than one world-model step (0.1 s) and its delay


def tick_dtype(joints: int) -> np.dtype:
    vec = ("f8", (joints,))
    return np.dtype(
        [
            ("index", "i8"), ("deadline_ns", "i8"), ("start_ns", "i8"), ("lateness_ns", "i8"),
            ("missed", "i8"), ("step_ns", "i8"), ("mode", "i1"), ("hold_reason", "i1"),
            ("events", "i4"),
            ("positions_rad", *vec), ("velocities_rad_s", *vec), ("currents_a", *vec),
            ("command_rad", *vec), ("proposed_rad", *vec),
        ]
    )  # fmt: skip


def chunk_dtype(horizon: int, joints: int) -> np.dtype:
    return np.dtype(
        [("t_obs_ns", "i8"), ("dt_ns", "i8"), ("inference_ns", "i8"), ("frame_number", "i8"),
         ("actions", "f8", (horizon, joints))]
    )  # fmt: skip


def history_dtype(joints: int) -> np.dtype:
    """A ring of the newest ticks: `count` written so far, slot i holds tick i % HISTORY."""
    return np.dtype(
        [("count", "i8"), ("stamp_ns", "i8", (HISTORY,)), ("read_ns", "i8", (HISTORY,)),
         ("command_rad", "f8", (HISTORY, joints)), ("positions_rad", "f8", (HISTORY, joints))]
    )  # fmt: skip


@dataclass(frozen=True)
class TickHistory:
    """The newest ticks, oldest first; NaN where a read or a write failed."""

    stamps_ns: np.ndarray  # (n,) when each command was sent (tick start)
    read_ns: np.ndarray  # (n,) when each position was read
    commands_rad: np.ndarray  # (n, J)
    positions_rad: np.ndarray  # (n, J)

    def positions_at(self, t_ns: int) -> np.ndarray | None:
        """Joint positions at `t_ns`, interpolated between the reads around it, or carried on
        from the last two reads when `t_ns` is at most one read interval after the last one
        (the next read is on its way); None otherwise."""
        ok = np.all(np.isfinite(self.positions_rad), axis=1)
        stamps, positions = self.read_ns[ok], self.positions_rad[ok]
        if len(stamps) < 2 or t_ns < stamps[0]:
            return None
        if t_ns > stamps[-1]:
            interval = stamps[-1] - stamps[-2]
            if interval <= 0 or t_ns - stamps[-1] > interval:
                return None
            rate = (positions[-1] - positions[-2]) / interval
            return positions[-1] + rate * (t_ns - stamps[-1])
        return np.array(
            [np.interp(t_ns, stamps, positions[:, j]) for j in range(positions.shape[1])]
        )


def joints_dtype(joints: int) -> np.dtype:
    return np.dtype([("stamp_ns", "i8"), ("positions_rad", "f8", (joints,))])


@dataclass
class Channels:
    joints: int
    horizon: int
    chunks: SharedArraySlot
    joint_state: SharedArraySlot
    ticks: SharedRing
    history: SharedArraySlot
    stop: SharedFlag
    emergency: SharedFlag  # the stop is a safety stop or a fault
    attached: SharedFlag

    @staticmethod
    def create(joints: int, horizon: int) -> Channels:
        return Channels(
            joints=joints,
            horizon=horizon,
            chunks=SharedArraySlot((), chunk_dtype(horizon, joints), tag="chunks"),
            joint_state=SharedArraySlot((), joints_dtype(joints), tag="joints"),
            ticks=SharedRing(TICK_CAPACITY, tick_dtype(joints), tag="ticks"),
            history=SharedArraySlot((), history_dtype(joints), tag="history"),
            stop=SharedFlag("stop"),
            emergency=SharedFlag("emergency"),
            attached=SharedFlag("attached"),
        )

    # -- runtime process side --------------------------------------------------------------
    def publish_chunk(self, chunk: ActionChunk) -> None:
        record = np.zeros((), self.chunks.dtype)
        record["t_obs_ns"], record["dt_ns"] = chunk.t_obs_ns, chunk.dt_ns
        record["inference_ns"], record["frame_number"] = chunk.inference_ns, chunk.frame_number
        record["actions"] = chunk.actions
        self.chunks.put(record)

    def latest_joint_positions(self) -> np.ndarray | None:
        value, version = self.joint_state.get()
        return None if value is None or version == 0 else np.array(value["positions_rad"])

    def recent_history(self) -> TickHistory:
        """The newest ticks the control process published (empty before the first)."""
        value, _ = self.history.get()
        count = 0 if value is None else int(value["count"])
        order = np.arange(max(0, count - HISTORY), count) % HISTORY
        if value is None:
            empty = np.zeros((0, self.joints))
            return TickHistory(np.zeros(0, np.int64), np.zeros(0, np.int64), empty, empty)
        return TickHistory(
            np.array(value["stamp_ns"][order]),
            np.array(value["read_ns"][order]),
            np.array(value["command_rad"][order]),
            np.array(value["positions_rad"][order]),
        )

    def joints_at(self, t_ns: int) -> np.ndarray | None:
        """The joints at `t_ns` (a frame's capture time); the newest ones when not covered."""
        at = self.recent_history().positions_at(t_ns)
        return at if at is not None else self.latest_joint_positions()

    def drain_ticks(self) -> list[tuple[TickRecord, int, str]]:
        """Tick records since the last call, each with its event bits and hold reason."""
        out = []
        for r in self.ticks.drain():
            record = TickRecord(
                index=int(r["index"]), deadline_ns=int(r["deadline_ns"]),
                start_ns=int(r["start_ns"]), lateness_ns=int(r["lateness_ns"]),
                missed=int(r["missed"]), positions_rad=r["positions_rad"],
                velocities_rad_s=r["velocities_rad_s"], currents_a=r["currents_a"],
                command_rad=r["command_rad"], proposed_rad=r["proposed_rad"],
                mode=MODES[int(r["mode"])], step_ns=int(r["step_ns"]),
            )  # fmt: skip
            out.append((record, int(r["events"]), HOLD_REASONS[int(r["hold_reason"])]))
        return out

    # -- control process side --------------------------------------------------------------
    def newest_chunk(self, after_version: int) -> tuple[ActionChunk | None, int]:
        value, version = self.chunks.get()
        if value is None or version == after_version:
            return None, version
        chunk = ActionChunk(
            t_obs_ns=int(value["t_obs_ns"]), dt_ns=int(value["dt_ns"]),
            actions=np.array(value["actions"]), inference_ns=int(value["inference_ns"]),
            frame_number=int(value["frame_number"]),
        )  # fmt: skip
        return chunk, version

    def publish_joints(self, state: JointState) -> None:
        record = np.zeros((), self.joint_state.dtype)
        record["stamp_ns"], record["positions_rad"] = state.stamp_ns, state.positions_rad
        self.joint_state.put(record)

    def publish_history(
        self, stamp_ns: int, read_ns: int, positions_rad: np.ndarray, command_rad: np.ndarray
    ) -> None:
        """Control process, every tick: one slot of the ring, then the whole ring out (~2 KB)."""
        ring = getattr(self, "_history_ring", None)
        if ring is None:
            ring = self._history_ring = np.zeros((), self.history.dtype)
        slot = int(ring["count"]) % HISTORY
        ring["stamp_ns"][slot], ring["read_ns"][slot] = stamp_ns, read_ns
        ring["positions_rad"][slot], ring["command_rad"][slot] = positions_rad, command_rad
        ring["count"] += 1
        self.history.put(ring)

    def _parts(self) -> tuple[Any, ...]:
        return (
            self.chunks, self.joint_state, self.ticks, self.history,
            self.stop, self.emergency, self.attached,
        )  # fmt: skip

    def close(self) -> None:
        for part in self._parts():
            part.close()

    def unlink(self) -> None:
        """Remove every name (the runtime, once the control process has attached); idempotent."""
        for part in self._parts():
            part.unlink()


def event_bits(kinds: list[str]) -> int:
    return sum(1 << EVENTS.index(kind) for kind in kinds if kind in EVENTS)


def event_kinds(bits: int) -> list[str]:
    return [kind for i, kind in enumerate(EVENTS) if bits >> i & 1]
