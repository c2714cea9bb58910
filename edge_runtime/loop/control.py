"""The control step, run by the scheduler every period in the control process.

It reads as a sentence: take the newest chunk, read the joints, pick the action planned for
now, pass it through the safety filter, send it, record the tick. It never waits on the
camera, the engine or the disk: chunks and joint states cross to the runtime process through
latest-value slots, tick records through a ring that gives up rather than wait.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from edge_runtime.ipc.channels import HOLD_REASONS, MODES, Channels, event_bits
from edge_runtime.loop.chunks import ChunkQueue
from edge_runtime.loop.clock import Clock
from edge_runtime.loop.safety import SafetyFilter
from edge_runtime.loop.scheduler import Tick
from edge_runtime.loop.settings import RuntimeSettings
from firmware_bridge.base import JointState, MotorBus
from firmware_bridge.errors import BridgeError

log = logging.getLogger(__name__)

STARTUP_READS = 5
# Before torque on nothing moves, so the start may wait out a motor device's stall (a busy
# simulator, a loaded host; on several buses any one of them): reads go on for this long,
# at most STARTUP_MAX_READS of them, before the start is refused.
STARTUP_WINDOW_S = 0.5
STARTUP_MAX_READS = 100


class ControlLoop:
    def __init__(
        self,
        bus: MotorBus,
        channels: Channels,
        safety: SafetyFilter,
        settings: RuntimeSettings,
        stop: Any,  # threading or multiprocessing Event
        clock: Clock,
    ) -> None:
        self.bus = bus
        self.channels = channels
        self.queue = ChunkQueue(len(bus.motor_ids), hold=settings.chunk_hold)
        self.safety = safety
        self.stale_observation_ns = int(settings.stale_observation_s * 1e9)
        self.stop = stop
        self.clock = clock
        self.max_tracking_error_rad = settings.max_tracking_error_rad
        self.stop_reason = ""
        self.bus_errors = 0
        self._chunk_version = 0
        self._record = np.zeros((), channels.ticks.dtype)
        self._nan = np.full(len(bus.motor_ids), np.nan)

    def start(self) -> None:
        """Read where the arm is, start the safety filter there, then turn torque on.

        A stop the motors' device latched in an earlier run (an MCU e-stop or watchdog) is
        cleared first: by now the runtime's own gate has let this run arm.
        """
        cleared = self.bus.clear_device_stop()
        if cleared:
            log.warning("the motor device had latched a %s stop earlier; cleared to arm", cleared)
        give_up_ns = self.clock.now_ns() + int(STARTUP_WINDOW_S * 1e9)
        for attempt in range(STARTUP_MAX_READS):  # one lost reply must not refuse to start
            state = self.bus.read_state()
            if state.ok or (attempt + 1 >= STARTUP_READS and self.clock.now_ns() > give_up_ns):
                break
        if not state.ok:
            raise BridgeError(
                f"cannot start: motors {sorted(state.errors)} did not report a position "
                f"({'; '.join(state.errors.values())})"
            )
        self.channels.publish_joints(state)
        self.safety.start(state.positions_rad)
        self.bus.enable()

    def step(self, tick: Tick) -> None:
        now = tick.start_ns
        chunk, self._chunk_version = self.channels.newest_chunk(self._chunk_version)
        if chunk is not None:
            self.queue.push(chunk, now)
        state, bus_error = self._read()
        hold_reason = self._hold_reason(state, now)
        proposed = self.queue.action_at(now)
        if proposed is not None:
            self.safety.arm()  # the first plan arrived: holds now count towards a stop
        command = self.safety.filter(proposed, hold_reason, now)
        write_error = self._write(command.target_rad)
        bus_error = write_error or bus_error
        self.channels.publish_history(
            now,
            now if state is None else state.stamp_ns,
            self._nan if state is None else state.positions_rad,
            self._nan if write_error else command.target_rad,  # what the motors were told
        )
        if command.mode == "stop":
            self.stop_reason = f"safety stop: {command.events[-1][1]}"
            self.stop.set()
        kinds = [kind for kind, _ in command.events] + (["bus_error"] if bus_error else [])
        reason = hold_reason or (self.safety.hold_reason if command.mode != "run" else "")
        self._send(tick, state, command.target_rad, proposed, command.mode, kinds, reason)

    def _send(
        self,
        tick: Tick,
        state: JointState | None,
        command: np.ndarray,
        proposed: np.ndarray | None,
        mode: str,
        kinds: list[str],
        hold_reason: str,
    ) -> None:
        r = self._record
        r["index"], r["deadline_ns"], r["start_ns"] = tick.index, tick.deadline_ns, tick.start_ns
        r["lateness_ns"], r["missed"] = tick.lateness_ns, tick.missed
        r["mode"], r["events"] = MODES.index(mode), event_bits(kinds)
        r["hold_reason"] = HOLD_REASONS.index(hold_reason) if hold_reason in HOLD_REASONS else 0
        r["positions_rad"] = self._nan if state is None else state.positions_rad
        r["velocities_rad_s"] = self._nan if state is None else state.velocities_rad_s
        r["currents_a"] = self._nan if state is None else state.currents_a
        r["command_rad"] = command
        r["proposed_rad"] = self._nan if proposed is None else proposed
        r["step_ns"] = self.clock.now_ns() - tick.start_ns
        self.channels.ticks.append(r)

    def _read(self) -> tuple[JointState | None, bool]:
        try:
            state = self.bus.read_state()
        except BridgeError as exc:
            self._bus_error("read", exc)
            return None, True
        if state.ok:
            self.channels.publish_joints(state)
        return state, False

    def _write(self, target_rad: np.ndarray) -> bool:
        try:
            self.bus.write_goal(target_rad)
        except BridgeError as exc:
            self._bus_error("write", exc)
            return True
        return False

    def _bus_error(self, what: str, exc: BridgeError) -> None:
        self.bus_errors += 1
        if self.bus_errors <= 10 or self.bus_errors % 100 == 0:
            log.warning("motor bus %s failed (%d so far): %s", what, self.bus_errors, exc)

    def _hold_reason(self, state: JointState | None, now_ns: int) -> str | None:
        if state is None or not state.ok:
            return "bad_state"
        # Motors that stop following (a tripped servo watchdog, a collision, a slipped horn)
        # fail silently on a sync write: the gap to the last command is how we see it.
        last = self.safety.last_command
        if (
            last is not None
            and self.max_tracking_error_rad > 0
            and np.max(np.abs(state.positions_rad - last)) > self.max_tracking_error_rad
        ):
            return "tracking_error"
        # The plan is only as fresh as the camera frame it was computed from.
        observed = self.queue.newest_observation_ns
        if observed is not None and now_ns - observed > self.stale_observation_ns:
            return "stale_observation"
        return None
