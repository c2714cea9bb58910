"""The control step, run by the scheduler every period on the control thread.

It reads as a sentence: read the joints, pick the action planned for now, pass it through the
safety filter, send it, tell the observers. It never waits on the camera, the engine or the
disk: the frame age is read from the camera's latest slot, the plan from the chunk queue.
"""

from __future__ import annotations

import logging
import threading

import numpy as np

from edge_runtime.clock import Clock
from edge_runtime.errors import StaleFrameError
from edge_runtime.pipeline.chunks import ChunkQueue
from edge_runtime.pipeline.observer import LoopObserver, TickRecord
from edge_runtime.pipeline.safety import SafetyFilter
from edge_runtime.scheduler import Tick
from edge_runtime.sensors.base import Camera
from edge_runtime.slot import LatestSlot
from firmware_bridge.base import JointState, MotorBus
from firmware_bridge.errors import BridgeError

log = logging.getLogger(__name__)

STARTUP_READS = 5


class ControlLoop:
    def __init__(
        self,
        bus: MotorBus,
        camera: Camera,
        queue: ChunkQueue,
        safety: SafetyFilter,
        joint_state: LatestSlot[JointState],
        observers: LoopObserver,
        stale_observation_s: float,
        stop: threading.Event,
        clock: Clock,
        max_tracking_error_rad: float = 0.0,
    ) -> None:
        self.clock = clock
        self.max_tracking_error_rad = max_tracking_error_rad
        self.bus = bus
        self.camera = camera
        self.queue = queue
        self.safety = safety
        self.joint_state = joint_state
        self.observers = observers
        self.stale_observation_s = stale_observation_s
        self.stop = stop
        self.stop_reason = ""
        self.bus_errors = 0
        self.enabled = False
        joints = len(bus.motor_ids)
        self._nan = np.full(joints, np.nan)

    def start(self) -> None:
        """Read where the arm is, start the safety filter there, then turn torque on."""
        for _attempt in range(STARTUP_READS):  # one lost reply must not refuse to start
            state = self.bus.read_state()
            if state.ok:
                break
        else:
            raise BridgeError(
                f"cannot start: motors {sorted(state.errors)} did not report a position "
                f"({'; '.join(state.errors.values())})"
            )
        self.joint_state.put(state)
        self.safety.start(state.positions_rad)
        self.bus.enable()
        self.enabled = True

    def step(self, tick: Tick) -> None:
        now = tick.start_ns
        state = self._read()
        hold_reason = self._hold_reason(state)
        proposed = self.queue.action_at(now)
        if proposed is not None:
            self.safety.arm()  # the first plan arrived: holds now count towards a stop
        command = self.safety.filter(proposed, hold_reason, now)
        self._write(command.target_rad)
        for kind, detail in command.events:
            self.observers.on_event(kind, detail, now)
        if command.mode == "stop":
            self.stop_reason = f"safety stop: {command.events[-1][1]}"
            self.stop.set()
        self.observers.on_tick(
            TickRecord(
                index=tick.index,
                deadline_ns=tick.deadline_ns,
                start_ns=tick.start_ns,
                lateness_ns=tick.lateness_ns,
                missed=tick.missed,
                positions_rad=self._nan if state is None else state.positions_rad,
                velocities_rad_s=self._nan if state is None else state.velocities_rad_s,
                currents_a=self._nan if state is None else state.currents_a,
                command_rad=command.target_rad,
                proposed_rad=self._nan if proposed is None else proposed,
                mode=command.mode,
                step_ns=self.clock.now_ns() - tick.start_ns,
            )
        )

    def _read(self) -> JointState | None:
        try:
            state = self.bus.read_state()
        except BridgeError as exc:
            self._bus_error("read", exc)
            return None
        if state.ok:
            self.joint_state.put(state)
        return state

    def _write(self, target_rad: np.ndarray) -> None:
        try:
            self.bus.write_goal(target_rad)
        except BridgeError as exc:
            self._bus_error("write", exc)

    def _bus_error(self, what: str, exc: BridgeError) -> None:
        self.bus_errors += 1
        if self.bus_errors <= 10 or self.bus_errors % 100 == 0:
            log.warning("motor bus %s failed (%d so far): %s", what, self.bus_errors, exc)
        self.observers.on_event("bus_error", f"{what}: {exc}", self.clock.now_ns())

    def _hold_reason(self, state: JointState | None) -> str | None:
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
        try:
            self.camera.read_latest(self.stale_observation_s)
        except StaleFrameError:
            return "stale_observation"
        return None
