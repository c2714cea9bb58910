"""The selftest's device checks: each camera's frames and intrinsics, the motor bus, a
loop-timing run.

Torque stays off throughout: the bus is opened (every configured id must answer), read, and
closed, which turns torque off; nothing is ever enabled. The loop-timing run reads the joint
state at the control period for `loop_ticks` periods, the exchange the control loop makes
every tick: a bus that cannot answer within the period (a 16 ms FTDI latency timer, a wrong
baud rate, a flaky cable) shows up here as missed periods and failed reads, before arming.
On the simulated robot (`[sim] enabled`) the camera and servos are the simulator's, reached
through the same drivers as in `run`.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING

import numpy as np

from edge_runtime.camera_config import CameraConfig
from edge_runtime.config import RobotConfig, SelftestConfig
from edge_runtime.errors import EdgeRuntimeError
from edge_runtime.field.selftest_report import Check
from edge_runtime.loop.scheduler import FixedRateScheduler, Tick
from edge_runtime.robot import open_camera, open_motor_bus
from edge_runtime.sensors.base import Camera, Frame
from edge_runtime.sensors.camera_set import CameraSet
from firmware_bridge.base import JointState, MotorBus
from firmware_bridge.errors import BridgeError

if TYPE_CHECKING:
    from edge_runtime.calibration_artifacts.schemas import JointCalibration


def device_checks(config: RobotConfig, joints: JointCalibration | None) -> list[Check]:
    """Camera, motors and loop timing, in that order; a device that cannot open fails."""
    with contextlib.ExitStack() as stack:
        port = bus_ports = None
        try:
            if config.sim.enabled:
                from edge_runtime.sim.rig import SimRig

                rig = stack.enter_context(SimRig(config))
                camera: Camera | None = rig.camera
                port, bus_ports = rig.port, rig.bus_ports
            else:
                camera = open_camera(config)
        except EdgeRuntimeError as exc:
            if config.sim.enabled:  # the simulator holds both devices
                return [Check(n, "fail", str(exc)) for n in ("camera", "motors", "loop timing")]
            checks = [Check("camera", "fail", str(exc))]
        else:
            assert camera is not None  # a started SimRig always has one
            checks = camera_checks(camera, config)
        return checks + motor_checks(config, port, joints, bus_ports)


def camera_checks(camera: Camera, config: RobotConfig) -> list[Check]:
    """A row per configured camera ("camera", or "camera <name>" for each of `[[cameras]]`).

    A camera set is started once and each member judged on its own frames, so a dead wrist
    camera shows as its own failing row instead of as frame sets that never form.
    """
    limits = config.selftest
    if not isinstance(camera, CameraSet):
        return [camera_check(camera, config.camera, limits)]
    names = [c.name for c in config.camera_configs]
    try:
        camera.start()
        return [
            _judge_camera(camera.members[c.name], c, limits, f"camera {c.name}")
            for c in config.camera_configs
        ]
    except EdgeRuntimeError as exc:
        return [Check(f"camera {name}", "fail", str(exc)) for name in names]
    finally:
        camera.stop()


def camera_check(
    camera: Camera, wanted: CameraConfig, limits: SelftestConfig, name: str = "camera"
) -> Check:
    """Start the camera, judge its frames (`_judge_camera`), stop it."""
    try:
        camera.start()
        return _judge_camera(camera, wanted, limits, name)
    except EdgeRuntimeError as exc:
        return Check(name, "fail", str(exc))
    finally:
        camera.stop()


def _judge_camera(camera: Camera, wanted: CameraConfig, limits: SelftestConfig, name: str) -> Check:
    """New frames arrive; their size is the configured one; the intrinsics are plausible."""
    frames: list[Frame] = []
    version, deadline = 0, time.monotonic() + limits.camera_timeout_s
    while len(frames) < limits.camera_frames and time.monotonic() < deadline:
        frame, version = camera.wait_frame(version, min(0.5, limits.camera_timeout_s))
        if frame is not None:
            frames.append(frame)
    if len(frames) < limits.camera_frames:
        why = f"; last error: {camera.last_error}" if camera.last_error else ""
        return Check(
            name, "fail",
            f"{len(frames)} of {limits.camera_frames} frames in {limits.camera_timeout_s:g} s"
            f"{why}; check the cable and `edgerun camera check`",
        )  # fmt: skip
    last = frames[-1]
    height, width = last.color.shape[:2]
    k = last.intrinsics
    span_s = (frames[-1].host_time_ns - frames[0].host_time_ns) / 1e9
    values = {
        "frames": len(frames), "width": width, "height": height,
        "fps_measured": round((len(frames) - 1) / span_s, 1) if span_s > 0 else 0.0,
        "fx": k.fx, "fy": k.fy, "ppx": k.ppx, "ppy": k.ppy,
    }  # fmt: skip
    problems = []
    if (width, height) != (wanted.width, wanted.height):
        problems.append(
            f"frames are {width}x{height}, the config says {wanted.width}x{wanted.height}"
        )
    if last.depth.shape != (height, width):
        problems.append(f"depth {last.depth.shape} is not aligned to colour ({height}, {width})")
    plausible = k.fx > 0 and k.fy > 0 and 0 < k.ppx < width and 0 < k.ppy < height
    if not plausible or (k.width, k.height) != (width, height):
        problems.append(
            f"intrinsics {k.width}x{k.height} fx {k.fx:g} fy {k.fy:g} principal point "
            f"({k.ppx:g}, {k.ppy:g}) do not fit {width}x{height} frames"
        )
    if problems:
        return Check(name, "fail", "; ".join(problems), values)
    fps = values["fps_measured"]
    detail = f"{len(frames)} frames {width}x{height} at {fps} fps; fx {k.fx:.1f} fy {k.fy:.1f}"
    return Check(name, "ok", detail, values)


def motor_checks(
    config: RobotConfig,
    port: str | None,
    joints: JointCalibration | None,
    bus_ports: dict[str, str] | None = None,
) -> list[Check]:
    """The bus answers for every configured id, then the loop-timing run; torque stays off."""
    try:
        bus = open_motor_bus(config, port, joints, bus_ports=bus_ports)
    except EdgeRuntimeError as exc:
        return [Check("motors", "fail", str(exc)), Check("loop timing", "skip", "no motor bus")]
    with bus:  # closing turns torque off (it was never on)
        try:
            state = bus.read_state()
        except BridgeError as exc:
            return [Check("motors", "fail", str(exc)), Check("loop timing", "skip", "no reads")]
        return [_motors(config, state), loop_timing_check(bus, config.period_s, config.selftest)]


def _motors(config: RobotConfig, state: JointState) -> Check:
    values = {j.name: round(float(p), 4) for j, p in zip(config.joints, state.positions_rad)}
    if state.errors:
        missing = ", ".join(f"id {i}: {e}" for i, e in sorted(state.errors.items()))
        return Check("motors", "fail", f"motors did not answer a read ({missing})", values)
    outside = [
        f"{j.name} at {p:+.3f} rad (limits {j.min_rad:+.3f}..{j.max_rad:+.3f})"
        for j, p in zip(config.joints, state.positions_rad)
        if not (np.isfinite(p) and j.min_rad <= p <= j.max_rad)
    ]
    if outside:
        detail = f"outside the config's limits: {'; '.join(outside)}; move them in by hand"
        return Check("motors", "warn", detail, values)
    ids = ", ".join(str(i) for i in config.motor_ids)
    return Check("motors", "ok", f"ids {ids} answer; torque off; positions within limits", values)


def loop_timing_check(bus: MotorBus, period_s: float, limits: SelftestConfig) -> Check:
    """Read the joint state every period for `loop_ticks` periods (the control loop's read)."""
    failed_reads = 0

    def read(_tick: Tick) -> None:
        nonlocal failed_reads
        try:
            failed_reads += not bus.read_state().ok
        except BridgeError:
            failed_reads += 1

    summary = FixedRateScheduler(period_s).run(read, max_ticks=limits.loop_ticks)
    stats = summary.as_dict()
    missed_fraction = summary.missed / max(1, summary.ticks + summary.missed)
    failed_fraction = failed_reads / max(1, summary.ticks)
    values = {**stats, "failed_reads": failed_reads, "missed_fraction": round(missed_fraction, 4)}
    detail = (
        f"{summary.ticks} reads at {stats['rate_hz']:g} Hz: read p99 {stats['step_us']['p99']:.0f}"
        f" µs of a {period_s * 1e6:.0f} µs period, lateness p99 "
        f"{stats['lateness_us']['p99']:.0f} µs, {summary.missed} periods missed, "
        f"{failed_reads} failed reads"
    )
    too_slow = missed_fraction > limits.max_missed_fraction
    if failed_fraction > limits.max_failed_read_fraction or too_slow:
        hint = "; check the FTDI latency timer (tools/udev), baud rate and cable"
        return Check("loop timing", "fail", detail + hint, values)
    return Check("loop timing", "ok", detail, values)
