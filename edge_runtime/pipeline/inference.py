"""The inference worker: newest frame + newest joint state → action chunk → control process.

It owns the engines (created on this thread, as TensorRT/pycuda require), waits for a frame
newer than the last one it used, and never touches the motors. A failure here is reported to
the runtime through `on_fault`, which stops the robot safely; it is never swallowed.

With a world model (`WorldModelLink`), frames are taken one world-model step apart (e.g. every
third frame at 30 fps for a 0.1 s step): the predictor was trained on that spacing, so the
monitor compares like with like, and the planner gets the time its budget allows. The monitor
reads the commands the control loop actually sent in between; a surprise stop goes to the
runtime as a safety stop with its reason, and no chunk is sent for that frame.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from edge_runtime.ipc.channels import TickHistory
from edge_runtime.loop.clock import Clock
from edge_runtime.pipeline.observer import ActionChunk, LoopObserver
from edge_runtime.pipeline.policy import BundlePolicy
from edge_runtime.pipeline.stats import SampleBuffer
from edge_runtime.sensors.base import Camera, Frame
from edge_runtime.world_model.agent import STOP_REASON, WorldModelAgent, WorldModelTurn
from edge_runtime.world_model.executed import executed_actions

log = logging.getLogger(__name__)

FRAME_SLACK_NS = 20_000_000  # a frame this much early still counts as one step later


@dataclass(frozen=True)
class WorldModelLink:
    """How the worker reaches the world model and the rest of the runtime."""

    build: Callable[[BundlePolicy], WorldModelAgent]  # on the worker thread (engines)
    recent_history: Callable[[], TickHistory]  # what the control loop measured and sent
    safety_stop: Callable[[str], None]
    step_s: float


class InferenceWorker:
    def __init__(
        self,
        make_policy: Callable[[], BundlePolicy],
        camera: Camera,
        joints_at: Callable[[int], np.ndarray | None],
        publish: Callable[[ActionChunk], None],
        clock: Clock,
        observers: LoopObserver,
        on_fault: Callable[[str, BaseException], None],
        max_frame_age_s: float,
        world_model: WorldModelLink | None = None,
    ) -> None:
        self._make_policy = make_policy
        self._camera = camera
        self._joints_at = joints_at  # the joints at a frame's capture time
        self._publish = publish
        self._clock = clock
        self._observers = observers
        self._on_fault = on_fault
        self._max_frame_age_ns = int(max_frame_age_s * 1e9)
        self._link = world_model
        self.agent: WorldModelAgent | None = None
        self._stop = threading.Event()
        self.ready = threading.Event()
        self.inference_ns = SampleBuffer()  # engine + preprocessing time per chunk
        self.latency_ns = SampleBuffer()  # observation → chunk in queue
        self.stale_frames_skipped = 0
        self.gpu_memory_mb: dict[str, float] = {}  # per engine, once the models are loaded
        self._thread = threading.Thread(target=self._run, name="inference", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        try:
            policy = self._make_policy()
            self.gpu_memory_mb = policy.gpu_memory_mb()
            if self._link is not None:
                self.agent = self._link.build(policy)
        except BaseException as exc:
            self.ready.set()
            self._on_fault("inference worker could not load the models", exc)
            return
        try:
            dt_ns = int(policy.action.dt_s * 1e9)
            link = self._link
            step_ns = 0 if link is None or self.agent is None else round(link.step_s * 1e9)
            self.ready.set()
            version, last_ns = 0, None
            while not self._stop.is_set():
                frame, version = self._camera.wait_frame(version, timeout_s=0.1)
                if frame is None or self._stop.is_set():
                    continue
                joints = self._joints_at(frame.host_time_ns)  # image and joints at one instant
                if joints is None:
                    continue
                start_ns = self._clock.now_ns()
                if start_ns - frame.host_time_ns > self._max_frame_age_ns:
                    self.stale_frames_skipped += 1
                    continue
                if last_ns is not None and frame.host_time_ns - last_ns < step_ns - FRAME_SLACK_NS:
                    continue  # not yet one world-model step after the last frame used
                previous_ns, last_ns = last_ns, frame.host_time_ns
                self._observers.on_frame(frame)
                chunk = self._infer(policy, frame, np.nan_to_num(joints), dt_ns, previous_ns)
                if chunk is None:
                    return  # a surprise stop: the runtime is stopping the robot
                self._publish(chunk)
                self.inference_ns.add(chunk.inference_ns)
                self.latency_ns.add(self._clock.now_ns() - frame.host_time_ns)
                self._observers.on_chunk(chunk)
        except BaseException as exc:
            self._on_fault("inference worker failed", exc)
        finally:
            policy.close()

    def _infer(
        self,
        policy: BundlePolicy,
        frame: Frame,
        joints: np.ndarray,
        dt_ns: int,
        previous_ns: int | None,
    ) -> ActionChunk | None:
        start_ns = self._clock.now_ns()
        actions, values = policy.act_with_values(frame, joints)
        extras: dict[str, float] = {}
        if self.agent is not None and self._link is not None:
            executed, joints_at_step = self._since(previous_ns, dt_ns)
            turn = self.agent.turn(
                frame.host_time_ns,
                values,
                actions,
                joints,
                executed,
                committed=self._committed(dt_ns),
                joints_at_step=joints_at_step,
            )
            for kind, detail in turn.events:
                self._observers.on_event(kind, detail, frame.host_time_ns)
            if turn.stop:
                self._observers.on_event(STOP_REASON, turn.stop, frame.host_time_ns)
                self._link.safety_stop(f"{STOP_REASON}: {turn.stop}")
                return None
            actions, dt_ns = turn.actions, round(dt_ns * turn.dt_scale)
            extras = _turn_extras(turn)
        return ActionChunk(
            t_obs_ns=frame.host_time_ns,
            dt_ns=dt_ns,
            actions=actions,
            inference_ns=self._clock.now_ns() - start_ns,
            frame_number=frame.frame_number,
            joint_positions=joints,
            world_model=extras,
        )

    def _since(
        self, previous_ns: int | None, dt_ns: int
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """The targets sent since the previous frame used (one per action step), and the
        joints measured one world-model step after it; None where the history lacks them."""
        monitor = None if self.agent is None else self.agent.monitor
        if previous_ns is None or monitor is None or self._link is None:
            return None, None
        history = self._link.recent_history()
        count = monitor.actions_per_step
        executed = executed_actions(
            history.stamps_ns, history.commands_rad, previous_ns, count, dt_ns
        )
        return executed, history.positions_at(previous_ns + count * dt_ns)

    def _committed(self, dt_ns: int) -> int:
        """Actions latency will have eaten when this chunk arrives (median so far)."""
        if len(self.latency_ns) == 0:
            return 0
        return math.ceil(float(np.median(self.latency_ns.values()[-50:])) / dt_ns)


def _turn_extras(turn: WorldModelTurn) -> dict[str, float]:
    """The numbers a log keeps per chunk: surprise scores and the plan's costs."""
    out: dict[str, float] = {}
    if turn.verdict.level != "none":
        out["surprise_latent"] = turn.verdict.latent
        out["surprise_joints_rad"] = turn.verdict.joints_rad
    if turn.plan is not None:
        out["plan_cost_policy"] = turn.plan.cost_policy
        out["plan_cost_best"] = turn.plan.cost_best
        out["plan_overridden"] = float(turn.plan.overridden)
        out["plan_ms"] = turn.plan.elapsed_ns / 1e6
    return out
