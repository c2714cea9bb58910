"""Build the robot's ports from its config: registries map `type` strings to lazy classes.

Following python-can, a registry maps a config `type` to ("module", "Class"), imported only
when used, so a robot without a RealSense never imports pyrealsense2. A failed import becomes
one sentence naming the missing extra.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from edge_runtime.bundle import Bundle, open_bundle
from edge_runtime.bundle.manifest import camera_names
from edge_runtime.config import CameraConfig, RobotConfig
from edge_runtime.errors import CameraError, ConfigError
from edge_runtime.loop.bus_spec import MotorBusSpec, MultiBusSpec
from edge_runtime.loop.clock import Clock
from edge_runtime.loop.safety import SafetyLimits
from edge_runtime.loop.settings import RuntimeSettings
from edge_runtime.registry import load_class
from edge_runtime.sensors.base import Camera
from firmware_bridge.base import MotorBus

if TYPE_CHECKING:
    from edge_runtime.calibration_artifacts.schemas import JointCalibration

CAMERAS = {
    "realsense": ("edge_runtime.sensors.realsense", "RealSenseCamera", "camera"),
    "playback": ("edge_runtime.sensors.realsense_playback", "PlaybackCamera", "camera"),
}


def joint_calibration(config: RobotConfig) -> JointCalibration | None:
    """The joint calibration the config points to (None without `[calibration] dir`).

    When a directory is configured, a missing, tampered or mismatched joints artifact
    refuses to arm, with the reason and the command that fixes it.
    """
    if not config.calibration_dir:
        return None
    from edge_runtime.calibration_artifacts.reader import require_joint_calibration

    return require_joint_calibration(config.resolve(config.calibration_dir), config.motor_ids)


def motor_bus_spec(
    config: RobotConfig,
    port: str | None = None,
    joints: JointCalibration | None = None,
    bus_ports: Mapping[str, str] | None = None,
) -> MotorBusSpec | MultiBusSpec:
    """How to open the configured bus, or buses (`[[buses]]`): picklable, light.

    `port` overrides `[motors]`'s, `bus_ports` ({name: port}) the `[[buses]]` ports.
    """
    if config.buses:
        return multi_bus_spec(config, joints, bus_ports or {})
    dynamixel = config.motors.type == "dynamixel"
    return MotorBusSpec(
        motor_type=config.motors.type,
        port=port or config.motors.port,
        motor_ids=tuple(config.motor_ids),
        baud=config.motors.baud,
        period_s=config.period_s,
        watchdog_ms=config.motors.watchdog_ms if dynamixel else None,
        latency_s=config.motors.latency_ms / 1000.0 if dynamixel else None,
        joints=joints,
    )


def multi_bus_spec(
    config: RobotConfig, joints: JointCalibration | None, ports: Mapping[str, str]
) -> MultiBusSpec:
    """One `MotorBusSpec` per `[[buses]]` entry, carrying its joints' ids in the robot's order."""
    specs = []
    for bus in config.buses:
        dynamixel = bus.kind == "dynamixel"
        spec = MotorBusSpec(
            motor_type=bus.kind,
            port=ports.get(bus.name) or bus.port,
            motor_ids=tuple(j.id for j in config.joints if j.bus == bus.name),
            baud=bus.baud,
            period_s=config.period_s,
            watchdog_ms=bus.watchdog_ms if dynamixel else None,
            latency_s=bus.latency_ms / 1000.0 if dynamixel else None,
        )
        specs.append((bus.name, spec))
    return MultiBusSpec(tuple(specs), tuple(config.motor_ids), joints)


def open_motor_bus(
    config: RobotConfig,
    port: str | None = None,
    joints: JointCalibration | None = None,
    verify: bool = True,
    bus_ports: Mapping[str, str] | None = None,
) -> MotorBus:
    """The configured bus; with a joint calibration, positions are in the calibrated frame.

    `verify=False` skips the Dynamixel open-time ping of every servo: for an emergency torque
    off, which must reach the wire before anything else (the ids were checked at the start).
    `port` / `bus_ports` override the config's ports (a simulator's ptys: `SimRig.port`,
    `SimRig.bus_ports`).
    """
    return motor_bus_spec(config, port, joints, bus_ports)(verify=verify)


def open_camera(config: RobotConfig, clock: Clock | None = None) -> Camera:
    """The configured camera, stamping frames on `clock` (the runtime's); several configured
    cameras come as one `CameraSet` delivering frame sets (hardware-synced when asked)."""
    cameras = config.camera_configs
    if len(cameras) == 1:
        return _open_one_camera(config, cameras[0], clock, None)
    from edge_runtime.sensors.camera_set import CameraSet
    from edge_runtime.sensors.realsense_sync import sync_modes

    sync = config.camera_sync
    modes = sync_modes([c.name for c in cameras], sync.hardware)
    members = {c.name: _open_one_camera(config, c, clock, modes[c.name]) for c in cameras}
    return CameraSet(members, sync.tolerance_ms, primary=sync.primary, clock=clock)


def _open_one_camera(
    config: RobotConfig, cam: CameraConfig, clock: Clock | None, sync_mode: int | None
) -> Camera:
    where = f"{config.path.name}: camera '{cam.name}'"
    if cam.type == "sim":
        raise ConfigError(f'{where} has type = "sim", which needs [sim] enabled = true')
    cls = load_class(CAMERAS[cam.type], f"camera type '{cam.type}'")
    if cam.type == "playback":
        path = config.resolve(cam.playback)
        if not path.is_file():
            raise CameraError(f"{where}: playback file {path} does not exist; fix the path")
        return cls(str(path), real_time=True, clock=clock)
    return cls(
        serial=cam.serial, width=cam.width, height=cam.height, fps=cam.fps, clock=clock,
        name=cam.name, sync_mode=sync_mode,
    )  # fmt: skip


def open_model_bundle(config: RobotConfig, override: str | Path | None = None) -> Bundle:
    location = Path(override) if override else None
    if location is None:
        if not config.model.bundle:
            raise ConfigError(f"{config.path.name}: [model] bundle is empty; set the bundle path")
        location = config.resolve(config.model.bundle)
    keys = [config.resolve(k) for k in config.model.trusted_keys]
    return open_bundle(location, trusted_keys=keys, development_mode=config.model.development_mode)


def check_bundle_matches(config: RobotConfig, bundle: Bundle) -> None:
    """Refuse a bundle made for other joints before any motor is enabled."""
    names = list(bundle.manifest.action.joint_names)
    if names != config.joint_names:
        raise ConfigError(
            f"the bundle drives joints {names} but {config.path.name} configures "
            f"{config.joint_names}; use a bundle exported for this robot"
        )
    sources = [t.source for spec in bundle.manifest.roles.values() for t in spec.inputs]
    missing = sorted(camera_names(sources) - {c.name for c in config.camera_configs})
    if missing:
        raise ConfigError(
            f"the bundle reads cameras {missing} but {config.path.name} configures "
            f"{[c.name for c in config.camera_configs]}; add [[cameras]] entries with those names"
        )


def safety_limits(
    config: RobotConfig, bundle: Bundle | None = None, joints: JointCalibration | None = None
) -> SafetyLimits:
    """Joint limits: the config's, narrowed by the calibration artifact and the bundle's."""
    lower = np.array([j.min_rad for j in config.joints])
    upper = np.array([j.max_rad for j in config.joints])
    if joints is not None:
        cal_lower, cal_upper = joints.limits_rad()
        lower, upper = np.maximum(lower, cal_lower), np.minimum(upper, cal_upper)
    if bundle is not None:
        limits = np.array(bundle.manifest.action.limits_rad)
        lower, upper = np.maximum(lower, limits[:, 0]), np.minimum(upper, limits[:, 1])
    if np.any(lower >= upper):
        bad = [config.joints[i].name for i in np.flatnonzero(lower >= upper)]
        raise ConfigError(
            f"joint limits of {bad} leave no valid range; check config and calibration"
        )
    return SafetyLimits.from_joints(
        list(lower),
        list(upper),
        [j.max_velocity_rad_s for j in config.joints],
        config.period_s,
        config.safety.hold_timeout_s,
        config.safety.first_plan_timeout_s,
    )


def stale_observation_s(config: RobotConfig, bundle: Bundle | None) -> float:
    """How old a plan's camera frame may be before the loop holds instead of following it.

    With a world model watching or planning, the inference worker replans once per world-model
    step (0.1 s for the reference bundle), so every plan is followed until it is one step plus
    the inference latency old. The configured 10 periods (0.1 s) then held the arm before every
    new plan (155 holds in a 20 s `make demo`): the floor is two steps, the age a plan reaches
    when one replan is late.
    """
    configured = config.safety.stale_observation_periods * config.period_s
    spec = bundle.manifest.world_model if bundle is not None else None
    watching = config.world_model.monitor or config.world_model.planner
    if spec is None or not watching:
        return configured
    return max(configured, 2.0 * spec.step_s)


def runtime_settings(
    config: RobotConfig, bundle: Bundle | None = None, joints: JointCalibration | None = None
) -> RuntimeSettings:
    chunk_length = bundle.manifest.action.chunk_length if bundle is not None else 1
    return RuntimeSettings(
        period_s=config.period_s,
        limits=safety_limits(config, bundle, joints),
        joint_names=tuple(config.joint_names),
        chunk_length=chunk_length,
        chunk_hold=bundle is not None and bundle.manifest.action.interpolation == "hold",
        stale_observation_s=stale_observation_s(config, bundle),
        # A frame set comes at the slowest camera's rate: its age limit follows that camera.
        max_frame_age_s=max(
            config.camera.max_age_s, 2.0 / min(c.fps for c in config.camera_configs)
        ),
        max_tracking_error_rad=config.safety.max_tracking_error_rad,
    )
