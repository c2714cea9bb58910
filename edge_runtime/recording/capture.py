"""`edgerun record`: sensors only. Camera frames and joint states into an episode log.

No policy, no motor commands, torque never enabled: this is how demonstrations (moving the
arm by hand, or teleoperation by another program) and camera-only datasets are collected.
Joint states are read at the robot's control period on a `FixedRateScheduler`, so the tick
records look exactly like a run's (commands NaN, mode "record"); frames are forwarded to the
recorder by a thread that waits on the camera's latest-frame slot, like the inference worker.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge_runtime.loop.scheduler import FixedRateScheduler, Tick
from edge_runtime.pipeline.observer import LoopObserver, TickRecord
from edge_runtime.sensors.base import Camera
from firmware_bridge.base import MotorBus


@dataclass
class CaptureResult:
    frames: int = 0
    frames_skipped: int = 0  # newer frames replaced one before it could be forwarded
    ticks: int = 0
    read_errors: int = 0
    seconds: float = 0.0


def _forward_frames(
    camera: Camera, observer: LoopObserver, stop: threading.Event, result: CaptureResult
) -> None:
    version = 0
    while not stop.is_set():
        frame, newest = camera.wait_frame(version, 0.2)
        if frame is None or newest == version:
            if getattr(camera, "finished", False):
                stop.set()  # a recording played to its end
            continue
        result.frames_skipped += max(newest - version - 1, 0) if version else 0
        version = newest
        result.frames += 1
        observer.on_frame(frame)


def capture(
    observer: LoopObserver,
    camera: Camera | None,
    bus: MotorBus | None,
    joint_names: list[str],
    period_s: float,
    duration_s: float | None,
    stop: threading.Event | None = None,
) -> CaptureResult:
    """Record until `duration_s` passes, `stop` is set, or a played-back recording ends."""
    stop = stop or threading.Event()
    result = CaptureResult()
    observer.on_start(joint_names, period_s)
    started = time.monotonic()
    forwarder = None
    if camera is not None:
        camera.start()
        forwarder = threading.Thread(
            target=_forward_frames, args=(camera, observer, stop, result), name="record-frames"
        )
        forwarder.start()
    nan = np.full(len(joint_names), np.nan)

    def step(tick: Tick) -> None:
        if duration_s is not None and time.monotonic() - started >= duration_s:
            stop.set()
            return
        if bus is None:
            return
        t0 = time.monotonic_ns()
        try:
            state = bus.read_state()
        except Exception as exc:  # a serial hiccup is an event in the log, not the end
            result.read_errors += 1
            observer.on_event("motor_read_error", str(exc), time.monotonic_ns())
            return
        if state.errors:
            observer.on_event("motor_errors", str(state.errors), state.stamp_ns)
        result.ticks += 1
        observer.on_tick(
            TickRecord(
                index=tick.index,
                deadline_ns=tick.deadline_ns,
                start_ns=tick.start_ns,
                lateness_ns=tick.lateness_ns,
                missed=tick.missed,
                positions_rad=state.positions_rad,
                velocities_rad_s=state.velocities_rad_s,
                currents_a=state.currents_a,
                command_rad=nan,
                proposed_rad=nan,
                mode="record",
                step_ns=time.monotonic_ns() - t0,
            )
        )

    try:
        FixedRateScheduler(period_s if bus is not None else 0.05).run(step, stop=stop)
    finally:
        stop.set()
        if forwarder is not None:
            forwarder.join()
        if camera is not None:
            camera.stop()
        result.seconds = round(time.monotonic() - started, 3)
        if result.frames_skipped:
            observer.on_event(
                "frames_skipped", f"{result.frames_skipped} frames", time.monotonic_ns()
            )
        observer.on_stop()
    return result


def result_dict(result: CaptureResult, extra: dict[str, Any]) -> dict[str, Any]:
    return {**result.__dict__, **extra}
