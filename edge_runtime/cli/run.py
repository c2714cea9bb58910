"""`edgerun run` and `edgerun demo`: drive a robot (or the simulated arm) with a bundle."""

from __future__ import annotations

import argparse
import contextlib
import functools
import logging
import os
from importlib import resources
from pathlib import Path
from typing import Any

from edge_runtime.cli.tree import CommandTree
from edge_runtime.config import load_config
from edge_runtime.pipeline.policy import BundlePolicy
from edge_runtime.pipeline.report import (
    plot_loop_timing,
    print_report,
    run_report,
    write_report_json,
)
from edge_runtime.pipeline.runtime import Runtime
from edge_runtime.robot import (
    check_bundle_matches,
    joint_calibration,
    open_camera,
    open_model_bundle,
    open_motor_bus,
    runtime_settings,
)

log = logging.getLogger(__name__)

SIM_CONFIG = "robot.toml"


def register(cli: CommandTree) -> None:
    run = cli.command(
        "run",
        "drive a robot with a bundle at a fixed control period",
        _run,
        description="Drive a robot from its TOML config: camera -> inference -> safety -> motors.\n"
        "Torque is turned off on every exit: end of --duration, Ctrl-C, SIGTERM or a fault.",
    )
    run.add_argument("--config", required=True, help="robot config (TOML)")
    _common(run)
    demo = cli.command(
        "demo",
        "run the built-in simulated arm in closed loop and report loop timing",
        _demo,
        description="The simulated MuJoCo arm, its servos on a pty behind the real Dynamixel "
        "driver, its camera rendered on the CPU.\nWithout --bundle it runs the analytic "
        "reference policy (a hand-built ONNX graph, not a trained model).",
    )
    demo.add_argument("--bundle", help="bundle to run (default: the analytic reference policy)")
    demo.add_argument("--trusted-key", action="append", default=[], help="public key (.pub)")
    demo.add_argument("--seed", type=int, default=0, help="target placement seed")
    _common(demo, default_duration=20.0)


def _common(parser: argparse.ArgumentParser, default_duration: float | None = None) -> None:
    parser.add_argument(
        "--duration",
        type=float,
        default=default_duration,
        help="seconds to run (default: until stopped)",
    )
    parser.add_argument("--out", default="out", help="directory for the report and plot")
    parser.add_argument("--record", help="record the run (episode log) into this directory")
    parser.add_argument("--backend", choices=["auto", "onnxruntime", "tensorrt"])


def _run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    return _drive(config, args, bundle_path=None, seed=None)


def _demo(args: argparse.Namespace) -> int:
    os.environ.setdefault("MUJOCO_GL", "osmesa")
    os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")
    config_path = resources.files("edge_runtime.sim").joinpath(SIM_CONFIG)
    with resources.as_file(config_path) as path:
        config = load_config(path)
    out = Path(args.out)
    bundle_path = args.bundle
    if bundle_path is None:
        from edge_runtime.sim.analytic_bundle import write_analytic_bundle

        bundle_path = out / "analytic-bundle"
        if not (bundle_path / "manifest.json").exists():
            log.info("building the analytic reference policy (ONNX graphs) in %s", bundle_path)
            write_analytic_bundle(bundle_path)
    return _drive(config, args, bundle_path=Path(bundle_path), seed=args.seed)


def _drive(
    config: Any, args: argparse.Namespace, bundle_path: Path | None, seed: int | None
) -> int:
    if getattr(args, "trusted_key", None):
        config = _with_trusted_keys(config, args.trusted_key)
    elif bundle_path is not None and not (bundle_path / "signature").exists():
        config = _with_development_mode(config)
    bundle = open_model_bundle(config, bundle_path)
    check_bundle_matches(config, bundle)
    joints = joint_calibration(config)
    settings = runtime_settings(config, bundle, joints)
    backend = args.backend or config.model.backend
    out = Path(args.out)
    with contextlib.ExitStack() as stack:
        rig = None
        port = None
        if config.sim.enabled:
            from edge_runtime.sim.rig import SimRig

            rig = stack.enter_context(SimRig(config, seed=seed))
            camera = rig.camera
            port = rig.port
        else:
            camera = open_camera(config)
        # The control process opens the bus itself; opening it here first turns a wrong
        # port, baud or id into one clear sentence before anything starts (torque stays off).
        bus_factory = functools.partial(open_motor_bus, config, port, joints)
        with bus_factory():
            pass

        def make_policy() -> BundlePolicy:
            return BundlePolicy(
                bundle, backend, config.model.intra_op_threads, config.model.engine_cache
            )

        observers = []
        if args.record:
            from edge_runtime.recording.recorder import EpisodeRecorder

            observers.append(stack.enter_context(EpisodeRecorder(Path(args.record))))
        runtime = Runtime(bus_factory, camera, make_policy, settings, observers)
        result = runtime.run(args.duration)
        task = rig.task_result() if rig is not None else None
    report = run_report(result, task)
    report["bundle"] = {
        "path": str(bundle_path or config.model.bundle),
        "signed_by": bundle.signed_by,
        "exporter": bundle.manifest.exporter.get("model")
        or bundle.manifest.exporter.get("name", ""),
    }
    print_report(report)
    write_report_json(report, out / "run-report.json")
    png = plot_loop_timing(result, out / "loop-timing.png", f"{config.name}: control loop timing")
    print(f"report: {out / 'run-report.json'}  plot: {png}")
    return 0 if result.ok else 1


def _with_trusted_keys(config: Any, keys: list[str]) -> Any:
    from dataclasses import replace

    absolute = tuple(str(Path(k).resolve()) for k in keys)
    return replace(config, model=replace(config.model, trusted_keys=absolute))


def _with_development_mode(config: Any) -> Any:
    from dataclasses import replace

    log.warning("the demo bundle is unsigned: loading it in development mode")
    return replace(config, model=replace(config.model, development_mode=True))
