"""The robot config: one TOML file, validated into dataclasses.

Every error names the key, the bad value and the fix, e.g.
``robot.toml: [robot] period_s = -0.01 is invalid: must be > 0, e.g. 0.01``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edge_runtime.bus_config import BusConfig, check_joint_buses, parse_buses
from edge_runtime.camera_config import CameraConfig, CameraSyncConfig, parse_cameras
from edge_runtime.engines import BACKENDS, DEFAULT_ENGINE_CACHE
from edge_runtime.errors import ConfigError
from edge_runtime.fields import Section, load_toml

MOTOR_TYPES = ("dynamixel", "mcu")


@dataclass(frozen=True)
class JointConfig:
    name: str
    id: int
    min_rad: float
    max_rad: float
    max_velocity_rad_s: float
    bus: str = ""  # the [[buses]] entry carrying it ("" with a single [motors] bus)


@dataclass(frozen=True)
class MotorConfig:
    type: str = "dynamixel"
    port: str = ""
    baud: int = 1_000_000
    watchdog_ms: int = 100
    latency_ms: float = 3.0  # adapter + device turnaround beyond wire time (U2D2: ~3 ms)


@dataclass(frozen=True)
class ModelConfig:
    bundle: str = ""
    backend: str = "auto"
    intra_op_threads: int = 1
    trusted_keys: tuple[str, ...] = ()
    development_mode: bool = False
    engine_cache: str = DEFAULT_ENGINE_CACHE


@dataclass(frozen=True)
class SafetyConfig:
    stale_observation_periods: int = 10
    hold_timeout_s: float = 0.5
    first_plan_timeout_s: float = 5.0
    max_tracking_error_rad: float = 0.5


@dataclass(frozen=True)
class WorldModelConfig:
    """`[world_model]`: what the bundle's world model does on this robot.

    None means "the bundle's default" (its manifest's world_model section).
    """

    monitor: bool = True  # stop the arm when the world stops behaving as predicted
    planner: bool = False  # imagine candidate chunks, send a better one than the policy's
    samples: int | None = None  # candidates per rollout call: the bundle's graph fixes it
    iterations: int | None = None  # CEM iterations per plan, at most
    budget_ms: float | None = None  # planning time per frame
    margin: float | None = None  # predicted-cost gain needed to replace the policy's chunk
    slow_down_on_warn: float = 1.0  # stretch chunks by this while the monitor warns (1: off)
    # Added to the bundle's joint thresholds: they were calibrated on the simulator's emulated
    # control loop; a robot's timing jitter and encoder noise add a few mrad it never saw
    # (10 mrad covers the simulated arm in real time, measured max 17 vs 17.4 calibrated).
    joint_margin_rad: float = 0.01


@dataclass(frozen=True)
class SimConfig:
    enabled: bool = False
    seed: int = 0
    servo_link: str = ""


@dataclass(frozen=True)
class SelftestConfig:
    """`[selftest]`: what `edgerun selftest` (and every `deploy`) requires of this robot."""

    camera_frames: int = 10  # new frames to wait for
    camera_timeout_s: float = 10.0
    loop_ticks: int = 300  # bus reads at the control period, torque off
    max_missed_fraction: float = 0.01  # of control periods the bus reads overran
    max_failed_read_fraction: float = 0.01  # of reads that failed or left a motor out
    min_free_disk_gb: float = 2.0  # for run reports and episode logs


@dataclass(frozen=True)
class RobotConfig:
    path: Path
    name: str
    period_s: float
    joints: tuple[JointConfig, ...]
    camera: CameraConfig  # the primary camera (the only one of a `[camera]` config)
    motors: MotorConfig
    model: ModelConfig
    safety: SafetyConfig
    sim: SimConfig
    calibration_dir: str = ""
    state_dir: str = ""  # latched stop, ack log, bundle slots; "" = edge_runtime.field default
    world_model: WorldModelConfig = field(default_factory=WorldModelConfig)
    selftest: SelftestConfig = field(default_factory=SelftestConfig)
    extra: dict[str, Any] = field(default_factory=dict)
    # Every camera, primary first (`[[cameras]]`; one for `[camera]`) and how sets match.
    cameras: tuple[CameraConfig, ...] = ()
    camera_sync: CameraSyncConfig = field(default_factory=CameraSyncConfig)
    buses: tuple[BusConfig, ...] = ()  # [[buses]]; empty: the single [motors] bus

    @property
    def joint_names(self) -> list[str]:
        return [j.name for j in self.joints]

    @property
    def motor_ids(self) -> list[int]:
        return [j.id for j in self.joints]

    @property
    def camera_configs(self) -> tuple[CameraConfig, ...]:
        """Every camera, primary first; `camera` is the primary, so `replace(camera=...)` holds."""
        return (self.camera, *self.cameras[1:])

    def resolve(self, value: str) -> Path:
        """A path from the config, relative to the config file's directory."""
        path = Path(value).expanduser()
        return path if path.is_absolute() else (self.path.parent / path)


def load_config(path: str | Path) -> RobotConfig:
    """Read and validate a robot config; raises `ConfigError` with one clear sentence."""
    path = Path(path)
    data = load_toml(path, ConfigError, "config file", "pass --config with a robot TOML")
    return parse_config(data, path)


def parse_config(data: dict[str, Any], path: Path) -> RobotConfig:
    where = path.name
    known = {
        "robot", "joints", "camera", "motors", "model", "safety", "sim", "calibration",
        "world_model", "selftest", "buses",
        "cameras", "camera_sync",
    }  # fmt: skip
    for key in data:
        if key not in known:
            raise ConfigError(
                f"{where}: unknown section [{key}]; valid sections are {', '.join(sorted(known))}"
            )
    robot = Section(data, "robot", where, required=True)
    period_s = robot.number("period_s", positive=True, maximum=1.0, example="0.01")
    name = robot.string("name", default=path.stem)
    state_dir = robot.string("state_dir", default="")
    robot.done()

    joints = tuple(
        _joint(entry, i, where, period_s) for i, entry in enumerate(_joint_list(data, where))
    )
    for attr in ("name", "id"):
        values = [getattr(j, attr) for j in joints]
        dupes = sorted({v for v in values if values.count(v) > 1}, key=str)
        if dupes:
            raise ConfigError(f"{where}: joint {attr}s must be unique, {dupes} appear twice")

    cameras, camera_sync = parse_cameras(data, where)

    mot = Section(data, "motors", where)
    motors = MotorConfig(
        type=mot.choice("type", MOTOR_TYPES, default="dynamixel"),
        port=mot.string("port", default=""),
        baud=mot.integer("baud", default=1_000_000, minimum=9600),
        watchdog_ms=mot.integer("watchdog_ms", default=100, minimum=20),
        latency_ms=mot.number("latency_ms", default=3.0, positive=True, maximum=100.0),
    )
    mot.done()

    mod = Section(data, "model", where)
    model = ModelConfig(
        bundle=mod.string("bundle", default=""),
        backend=mod.choice("backend", BACKENDS, default="auto"),
        intra_op_threads=mod.integer("intra_op_threads", default=1, minimum=1),
        trusted_keys=tuple(mod.string_list("trusted_keys", default=[])),
        development_mode=mod.boolean("development_mode", default=False),
        engine_cache=mod.string("engine_cache", default=ModelConfig.engine_cache),
    )
    mod.done()

    saf = Section(data, "safety", where)
    safety = SafetyConfig(
        stale_observation_periods=saf.integer("stale_observation_periods", default=10, minimum=1),
        hold_timeout_s=saf.number("hold_timeout_s", default=0.5, positive=True),
        first_plan_timeout_s=saf.number("first_plan_timeout_s", default=5.0, positive=True),
        max_tracking_error_rad=saf.number("max_tracking_error_rad", default=0.5, positive=True),
    )
    saf.done()

    sim_section = Section(data, "sim", where)
    sim = SimConfig(
        enabled=sim_section.boolean("enabled", default=False),
        seed=sim_section.integer("seed", default=0, minimum=0),
        servo_link=sim_section.string("servo_link", default=""),
    )
    sim_section.done()
    buses = parse_buses(data, where, motors, simulated=sim.enabled)
    joints = check_joint_buses(joints, buses, where)
    if not buses and not sim.enabled and motors.type == "dynamixel" and not motors.port:
        raise ConfigError(f'{where}: [motors] port is empty; set it, e.g. port = "/dev/ttyUSB0"')

    cal = Section(data, "calibration", where)
    calibration_dir = cal.string("dir", default="")
    cal.done()

    return RobotConfig(
        path=path,
        name=name,
        period_s=period_s,
        joints=joints,
        camera=cameras[0],
        motors=motors,
        model=model,
        safety=safety,
        sim=sim,
        calibration_dir=calibration_dir,
        state_dir=state_dir,
        world_model=_world_model(data, where),
        selftest=_selftest(data, where),
        cameras=cameras,
        camera_sync=camera_sync,
        buses=buses,
    )


def _selftest(data: dict[str, Any], where: str) -> SelftestConfig:
    sec = Section(data, "selftest", where)
    fraction = {"minimum": 0.0, "maximum": 1.0}
    config = SelftestConfig(
        camera_frames=sec.integer("camera_frames", default=10, minimum=1),
        camera_timeout_s=sec.number("camera_timeout_s", default=10.0, positive=True),
        loop_ticks=sec.integer("loop_ticks", default=300, minimum=10),
        max_missed_fraction=sec.number("max_missed_fraction", default=0.01, **fraction),
        max_failed_read_fraction=sec.number("max_failed_read_fraction", default=0.01, **fraction),
        min_free_disk_gb=sec.number("min_free_disk_gb", default=2.0, minimum=0.0),
    )
    sec.done()
    return config


def _world_model(data: dict[str, Any], where: str) -> WorldModelConfig:
    sec = Section(data, "world_model", where)

    def optional(key: str, read: Any) -> Any:
        return read() if key in sec.data else None  # None: the bundle's default

    config = WorldModelConfig(
        monitor=sec.boolean("monitor", default=True),
        planner=sec.boolean("planner", default=False),
        samples=optional("samples", lambda: sec.integer("samples", minimum=1)),
        iterations=optional("iterations", lambda: sec.integer("iterations", minimum=0)),
        budget_ms=optional(
            "budget_ms", lambda: sec.number("budget_ms", positive=True, example="40")
        ),
        margin=optional("margin", lambda: sec.number("margin", minimum=0.0)),
        slow_down_on_warn=sec.number("slow_down_on_warn", default=1.0, minimum=1.0, maximum=10.0),
        joint_margin_rad=sec.number("joint_margin_rad", default=0.01, minimum=0.0, maximum=0.5),
    )
    sec.done()
    return config


def _joint_list(data: dict[str, Any], where: str) -> list[dict[str, Any]]:
    joints = data.get("joints")
    if not isinstance(joints, list) or not joints:
        raise ConfigError(
            f"{where}: no [[joints]] entries; add one per motor with name, id, min_rad, max_rad"
        )
    return joints


def _joint(entry: Any, index: int, where: str, period_s: float) -> JointConfig:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: joints[{index}] must be a table [[joints]]")
    sec = Section({"joints": entry}, "joints", where, label=f"joints[{index}]")
    joint = JointConfig(
        name=sec.string("name"),
        id=sec.integer("id", minimum=0, maximum=252),
        min_rad=sec.number("min_rad"),
        max_rad=sec.number("max_rad"),
        max_velocity_rad_s=sec.number("max_velocity_rad_s", default=1.0, positive=True),
        bus=sec.string("bus", default=""),
    )
    sec.done()
    if not joint.min_rad < joint.max_rad:
        raise ConfigError(
            f"{where}: joints[{index}] ({joint.name}) has min_rad = {joint.min_rad} >= "
            f"max_rad = {joint.max_rad}; swap or fix the limits"
        )
    return joint
