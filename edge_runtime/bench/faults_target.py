"""The runtime under test in a fault campaign: a process of its own, as on the robot.

The campaign (`faults.py`) owns the simulated arm (its servos are the witness) and starts this
process for every run, so it can SIGTERM or SIGKILL the runtime, or its control process,
like a service manager or the OOM killer would, while the arm and its witness live on.

What runs here is the runtime `edgerun run` assembles: `Runtime` with the bundle's policy,
the real Dynamixel driver on the rig's pty, the rig's camera through shared memory, the
episode recorder (its own writer process). One addition: the policy is a `ModelFaultPolicy`,
the bundle's real models that the campaign can make slow, raise or answer NaN/inf at the
moment it chooses. Why a harness-side subclass and not a misbehaving ONNX graph: a graph has
no notion of "from now on"; the moment must be the campaign's, and everything around the
models (engine, worker, queue, safety filter) stays the real code.

Messages to the campaign on the pipe: ("armed", t_ns) at the first tick, ("event", kind,
detail, t_ns) for stops and faults, ("injected", t_ns) when the model first misbehaves,
("result", dict) at the end. Commands from it: ("model", "overrun" | "exception" | "nan").
"""

from __future__ import annotations

import contextlib
import faulthandler
import functools
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge_runtime.config import RobotConfig
from edge_runtime.pipeline.observer import LoopObserver, TickRecord
from edge_runtime.pipeline.policy import BundlePolicy
from edge_runtime.sensors.base import Frame
from edge_runtime.sim.rig import CameraLink

MODEL_FAULTS = ("overrun", "exception", "nan")
OVERRUN_PERIODS = 3  # an inference that takes three control periods
HANG_DUMP_AFTER_END_S = 25.0  # the campaign calls a run hung 30 s after its duration


@dataclass(frozen=True)
class TargetSpec:
    config: RobotConfig
    bundle_dir: str
    port: str
    camera: CameraLink
    record_dir: str
    duration_s: float


class ModelFaultSwitch:
    """The fault the model shows from now on ("" = none), and when it first showed."""

    def __init__(self, send: Any) -> None:
        self.mode = ""
        self.first_ns = 0
        self._send = send

    def showing(self) -> str:
        if self.mode and not self.first_ns:
            self.first_ns = time.monotonic_ns()
            self._send(("injected", self.first_ns))
        return self.mode


class ModelFaultPolicy(BundlePolicy):
    """The bundle's models, misbehaving when `switch` says (see the module docstring)."""

    def __init__(self, switch: ModelFaultSwitch, period_s: float, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.switch = switch
        self.overrun_s = OVERRUN_PERIODS * period_s

    def act_with_values(
        self, frame: Frame, joint_positions: np.ndarray
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        mode = self.switch.showing()
        if mode == "exception":
            raise RuntimeError("the model raised (injected by the fault campaign)")
        start = time.monotonic()
        actions, values = super().act_with_values(frame, joint_positions)
        if mode == "overrun":
            time.sleep(max(0.0, self.overrun_s - (time.monotonic() - start)))
        elif mode == "nan":
            actions = np.array(actions, dtype=np.float64)
            actions[::2] = np.nan
            actions[1::2] = np.inf
        return actions, values


class Tap(LoopObserver):
    """Tells the campaign when the loop is armed and when the runtime decided to stop."""

    def __init__(self, send: Any, hang_after_s: float) -> None:
        self._send = send
        self._armed = False
        self._hang_after_s = hang_after_s

    def on_tick(self, record: TickRecord) -> None:
        if not self._armed:
            self._armed = True
            self._send(("armed", record.start_ns))
            # Still running this long after the first tick: every thread's stack on stderr,
            # just before the campaign kills this process as hung.
            faulthandler.dump_traceback_later(self._hang_after_s)

    def on_event(self, kind: str, detail: str, stamp_ns: int) -> None:
        if kind in ("stop", "fault"):
            self._send(("event", kind, detail, stamp_ns))


def target_main(spec: TargetSpec, conn: Any) -> None:
    """The process's entry point: run the robot once, report, exit."""
    try:
        _run(spec, conn)
    except Exception as exc:  # the campaign reports it as a run that did not start
        with contextlib.suppress(OSError):
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


def _run(spec: TargetSpec, conn: Any) -> None:
    from edge_runtime.bundle import open_bundle
    from edge_runtime.loop.clock import MonotonicClock
    from edge_runtime.pipeline.runtime import Runtime
    from edge_runtime.recording.recorder import EpisodeRecorder
    from edge_runtime.robot import motor_bus_spec, runtime_settings

    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    lock = threading.Lock()

    def send(message: tuple[Any, ...]) -> None:
        with lock:
            conn.send(message)

    config = spec.config
    bundle = open_bundle(spec.bundle_dir, development_mode=True)
    settings = runtime_settings(config, bundle)
    switch = ModelFaultSwitch(send)
    make_policy = functools.partial(
        ModelFaultPolicy, switch, config.period_s, bundle, config.model.backend, 1
    )
    clock = MonotonicClock()
    recorder = EpisodeRecorder(spec.record_dir, clock=clock)
    recorder.start()
    bus_factory = motor_bus_spec(config, spec.port, None)  # light to unpickle, as in run
    with bus_factory():  # as `edgerun run` does: ids checked, driver loaded, torque off
        pass
    runtime = Runtime(
        bus_factory,
        spec.camera.open(),
        make_policy,
        settings,
        [recorder, Tap(send, spec.duration_s + HANG_DUMP_AFTER_END_S)],
        clock,
    )
    threading.Thread(target=_commands, args=(conn, switch), daemon=True).start()
    result = runtime.run(spec.duration_s)
    recorder.close()
    send(("result", _summary(result, recorder)))


def _commands(conn: Any, switch: ModelFaultSwitch) -> None:
    try:
        while True:
            kind, value = conn.recv()
            if kind == "model" and value in MODEL_FAULTS:
                switch.mode = value
    except (EOFError, OSError):
        return


def _summary(result: Any, recorder: Any) -> dict[str, Any]:
    summary = result.summary.as_dict()
    return {
        "stop_reason": result.stop_reason,
        "fault": result.fault,
        "ticks": summary["ticks"],
        "missed": summary["missed"],
        "safety_counts": dict(result.safety_counts),
        "bus_errors": result.bus_errors,
        "ticks_dropped": int(result.chunks.get("ticks_dropped", 0)),
        "recorder_error": recorder.error or "",
        "recorder_dropped": dict(recorder.dropped),
        # This process's wall clock against the monotonic one: shows a wall-clock step took.
        "wall_minus_monotonic_ns": time.time_ns() - time.monotonic_ns(),
    }
