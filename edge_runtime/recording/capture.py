"""`edgerun record`: sensors only. Camera frames and joint states into an episode log.

No policy, no motor commands, torque never enabled: this is how demonstrations (moving the
arm by hand, or teleoperation by another program) and camera-only datasets are collected.
Joint states are read at the robot's control period on a `FixedRateScheduler`, so the tick
records look exactly like a run's (commands NaN, mode "record"); frames are forwarded to the
recorder by a thread that waits on the camera's latest-frame slot, like the inference worker.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.config import RobotConfig, load_config
from edge_runtime.errors import ConfigError
from edge_runtime.loop.clock import Clock, MonotonicClock
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
    clock: Clock | None = None,
) -> CaptureResult:
    """Record until `duration_s` passes, `stop` is set, or a played-back recording ends."""
    stop = stop or threading.Event()
    clock = clock if clock is not None else MonotonicClock()
    result = CaptureResult()
    observer.on_start(joint_names, period_s)
    started_ns = clock.now_ns()
    forwarder = None
    if camera is not None:
        camera.start()
        forwarder = threading.Thread(
            target=_forward_frames, args=(camera, observer, stop, result), name="record-frames"
        )
        forwarder.start()
    nan = np.full(len(joint_names), np.nan)

    def step(tick: Tick) -> None:
        if duration_s is not None and clock.now_ns() - started_ns >= duration_s * 1e9:
            stop.set()
            return
        if bus is None:
            return
        t0 = clock.now_ns()
        try:
            state = bus.read_state()
        except Exception as exc:  # a serial hiccup is an event in the log, not the end
            result.read_errors += 1
            observer.on_event("motor_read_error", str(exc), clock.now_ns())
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
                step_ns=clock.now_ns() - t0,
            )
        )

    try:
        FixedRateScheduler(period_s if bus is not None else 0.05, clock).run(step, stop=stop)
    finally:
        stop.set()
        if forwarder is not None:
            forwarder.join()
        if camera is not None:
            camera.stop()
        result.seconds = round((clock.now_ns() - started_ns) / 1e9, 3)
        if result.frames_skipped:
            observer.on_event("frames_skipped", f"{result.frames_skipped} frames", clock.now_ns())
        observer.on_stop()
    return result


def result_dict(result: CaptureResult, extra: dict[str, Any]) -> dict[str, Any]:
    return {**result.__dict__, **extra}


@dataclass(frozen=True)
class RecordOptions:
    """`edgerun record`: where frames and joint states come from, and where the log goes."""

    out: Path
    config: Path | None = None  # robot TOML: camera and motors from it
    serial: str | None = None  # a live RealSense ("" = the first found)
    playback: Path | None = None  # a .db3 recording played in real time
    seconds: float | None = None  # None: until Ctrl-C (or the recording's end)
    motors: bool = True  # read the config's motors (torque stays off)
    db3: bool = False  # live camera: also keep librealsense's own recording


def record_sensors(options: RecordOptions) -> tuple[dict[str, Any], bool]:
    """Open the sources, record into `options.out`; (summary, log intact). Torque never on."""
    from edge_runtime.recording.identity import run_identity
    from edge_runtime.recording.recorder import EpisodeRecorder

    if options.seconds is not None and options.seconds <= 0:
        raise ConfigError(f"--seconds {options.seconds} is invalid: must be > 0")
    config = load_config(options.config) if options.config else None
    camera = _camera(options, config)
    bus = None
    if config is not None and options.motors and not config.sim.enabled:
        from edge_runtime.robot import open_motor_bus

        bus = open_motor_bus(config)
    if camera is None and bus is None:
        raise ConfigError("nothing to record: pass --serial, --playback or a --config with them")
    joints = config.joint_names if config else []
    period_s = config.period_s if config else 0.01
    identity = run_identity(config)
    recorder = EpisodeRecorder(options.out, meta={"source": "edgerun record"}, identity=identity)
    try:
        result = capture(recorder, camera, bus, joints, period_s, options.seconds)
    finally:
        if bus is not None:
            bus.close()
    summary = result_dict(result, {"log": str(options.out), "dropped": recorder.dropped})
    return summary, recorder.error is None


def _camera(options: RecordOptions, config: RobotConfig | None) -> Camera | None:
    if options.playback:
        from edge_runtime.sensors.realsense_playback import PlaybackCamera

        return PlaybackCamera(str(options.playback), real_time=True)
    if options.serial is not None:
        from edge_runtime.sensors.realsense import RealSenseCamera

        db3 = options.out / "camera.db3" if options.db3 else ""
        return RealSenseCamera(options.serial, record_to=db3)
    if config is not None and config.camera.type != "sim":
        from edge_runtime.robot import open_camera

        return open_camera(config)
    return None
