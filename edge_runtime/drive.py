"""Drive a robot from its config: the one place a run is assembled (CLI `run` and `demo`).

Order matters for safety: the bundle is opened and checked (hashes, signature, joints) and the
calibration artifact read before anything moves; the bus is opened once up front so a wrong
port, baud or id is one clear sentence while torque is still off; only then do the camera,
the inference worker and the control process start. The report and the timing plot are
written whatever way the run ended.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.config import RobotConfig, load_config
from edge_runtime.errors import ConfigError
from edge_runtime.field.live import LiveStatus
from edge_runtime.field.state_dir import resolve_state_dir
from edge_runtime.loop.bus_spec import MOTOR_BUSES, remember_models
from edge_runtime.loop.clock import MonotonicClock
from edge_runtime.pipeline.observer import LoopObserver
from edge_runtime.pipeline.policy import BundlePolicy
from edge_runtime.pipeline.report import plot_loop_timing, run_report, write_report_json
from edge_runtime.pipeline.runtime import RunResult, Runtime
from edge_runtime.robot import (
    check_bundle_matches,
    joint_calibration,
    motor_bus_spec,
    open_camera,
    open_model_bundle,
    runtime_settings,
)
from edge_runtime.sim.robots import DEMO_ROBOTS
from edge_runtime.world_model.setup import agent_builder

log = logging.getLogger(__name__)

SIM_CONFIG = "robot.toml"  # the simulated arm's config, shipped in edge_runtime.sim


@dataclass(frozen=True)
class DriveOptions:
    duration_s: float | None = None  # None: until stopped
    out_dir: Path = Path("out")  # run-report.json and loop-timing.png go here
    record_dir: Path | None = None  # episode log
    backend: str | None = None  # None: the config's [model] backend
    bundle: Path | None = None  # overrides the config's [model] bundle
    trusted_keys: tuple[str, ...] = ()  # added to the config's [model] trusted_keys
    seed: int | None = None  # simulated robot: target placement
    observers: tuple[LoopObserver, ...] = ()  # more observers (the service's watchdog, latch)


@dataclass(frozen=True)
class DriveOutcome:
    result: RunResult
    report: dict[str, Any]
    report_path: Path
    plot_path: Path


def drive(config: RobotConfig, options: DriveOptions) -> DriveOutcome:
    """Run the robot until the duration, a signal, a safety stop or a fault; torque ends off."""
    if options.trusted_keys:
        keys = tuple(str(Path(k).resolve()) for k in options.trusted_keys)
        config = replace(config, model=replace(config.model, trusted_keys=keys))
    elif options.bundle is not None and not (options.bundle / "signature").exists():
        log.warning("the bundle %s is unsigned: loading it in development mode", options.bundle)
        config = replace(config, model=replace(config.model, development_mode=True))
    bundle = open_model_bundle(config, options.bundle)
    check_bundle_matches(config, bundle)
    joints = joint_calibration(config)
    settings = runtime_settings(config, bundle, joints)
    backend = options.backend or config.model.backend
    clock = MonotonicClock()  # one time base for frames, records and the control loop
    velocities = np.array([j.max_velocity_rad_s for j in config.joints])
    world_model = agent_builder(bundle, config.world_model, velocities, clock)
    with contextlib.ExitStack() as stack:
        rig = None
        port = None
        if config.sim.enabled:
            from edge_runtime.sim.rig import SimRig

            rig = stack.enter_context(SimRig(config, seed=options.seed))
            camera, port = rig.camera, rig.port
        else:
            camera = open_camera(config, clock)
        bus_ports = rig.bus_ports if rig is not None else None  # a simulated device per bus
        bus_factory = motor_bus_spec(config, port, joints, bus_ports)  # pickled to the child
        with bus_factory() as bus:  # a wrong port, baud or id fails here, torque still off
            bus_factory = remember_models(bus_factory, bus)  # each servo's table, for later
        make_policy = functools.partial(
            BundlePolicy,
            bundle,
            backend,
            config.model.intra_op_threads,
            config.model.engine_cache,
            extra_roles=world_model.extra_roles if world_model else (),
        )
        observers = list(options.observers)
        bundle_name = str(options.bundle or config.model.bundle)  # the console shows it live
        state_dir = resolve_state_dir(config)
        live = LiveStatus(state_dir, config.name, bundle_name, camera=config.camera.name)
        observers.append(stack.enter_context(live))
        if options.record_dir is not None:
            from edge_runtime.recording.identity import run_identity
            from edge_runtime.recording.recorder import EpisodeRecorder

            location = options.bundle or config.resolve(config.model.bundle)
            identity = run_identity(config, bundle, location)  # the log says what ran
            recorder = EpisodeRecorder(options.record_dir, clock=clock, identity=identity)
            observers.append(stack.enter_context(recorder))
        setup = world_model.setup if world_model else None
        runtime = Runtime(bus_factory, camera, make_policy, settings, observers, clock, setup)
        result = runtime.run(options.duration_s)
        task = rig.task_result() if rig is not None else None
        sim_motors = rig.motor_status() if rig is not None else None
    report = run_report(result, task)
    if sim_motors is not None:  # the simulated motor device's own account (MCU e-stops, ...)
        report["sim_motors"] = sim_motors
    report["bundle"] = {
        "path": str(options.bundle or config.model.bundle),
        "signed_by": bundle.signed_by,
        "exporter": bundle.manifest.exporter.get("model")
        or bundle.manifest.exporter.get("name", ""),
    }
    report_path = options.out_dir / "run-report.json"
    write_report_json(report, report_path)
    title = f"{config.name}: control loop timing"
    plot_path = plot_loop_timing(result, options.out_dir / "loop-timing.png", title)
    return DriveOutcome(result, report, report_path, plot_path)


def demo_config(motors: str = "dynamixel", robot: str = "arm") -> RobotConfig:
    """A simulated robot's config (MuJoCo world, motors on ptys, rendered cameras).

    `robot` names one of `DEMO_ROBOTS`. `motors` picks the desk arm's motor device: Dynamixel
    servos (robot.toml's) or `"mcu"`, the simulated MCU board behind `McuBus`, so `run` with
    `[motors] type = "mcu"` runs end to end; the robots on several buses name theirs.
    """
    if robot not in DEMO_ROBOTS:
        raise ConfigError(f"unknown robot '{robot}'; choose one of {', '.join(DEMO_ROBOTS)}")
    if motors not in MOTOR_BUSES:
        raise ConfigError(f"unknown motors '{motors}'; choose one of {', '.join(MOTOR_BUSES)}")
    config_path = resources.files("edge_runtime.sim").joinpath(DEMO_ROBOTS[robot])
    with resources.as_file(config_path) as path:
        config = load_config(path)
    if config.buses and motors != "dynamixel":
        raise ConfigError(
            f"--motors {motors} drives the desk arm's single bus; the robot '{robot}' names the "
            "kind of each of its [[buses]]: leave --motors out"
        )
    return replace(config, motors=replace(config.motors, type=motors))


def demo_bundle(out_dir: Path) -> Path:
    """The analytic reference bundle (hand-built ONNX graphs), written once into `out_dir`."""
    from edge_runtime.sim.analytic_bundle import write_analytic_bundle

    path = out_dir / "analytic-bundle"
    if not (path / "manifest.json").exists():
        log.info("building the analytic reference policy (ONNX graphs) in %s", path)
        write_analytic_bundle(path)
    return path
