"""`edgerun run` and `edgerun demo`: drive a robot (or the simulated arm) with a bundle."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

from edge_runtime.cli import bench_world_model, console
from edge_runtime.cli.tree import CommandTree
from edge_runtime.cli.trust_flags import add_trust_flags
from edge_runtime.engines import BACKENDS
from edge_runtime.sim.robots import DEMO_ROBOTS

if TYPE_CHECKING:
    from edge_runtime.drive import DriveOptions, DriveOutcome


def register(cli: CommandTree) -> None:
    run = cli.command(
        "run",
        "drive a robot with a bundle at a fixed control period",
        _run,
        description="Drive a robot from its TOML config: camera -> inference -> safety -> motors.\n"
        "Torque is turned off on every exit: end of --duration, Ctrl-C, SIGTERM or a fault.\n"
        "A safety stop exits 10 and is latched: run refuses to arm until `edgerun ack`.",
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
    add_trust_flags(demo, allow_unsigned=False)
    demo.add_argument("--seed", type=int, default=0, help="target placement seed")
    demo.add_argument("--motors", choices=("dynamixel", "mcu"), default="dynamixel",
                      help="the arm's motors: servos, or the simulated MCU board")  # fmt: skip
    demo.add_argument("--robot", choices=DEMO_ROBOTS, default="arm",
                      help="two-camera: a wrist and a scene camera, 2 buses")  # fmt: skip
    _common(demo, default_duration=20.0)
    status = cli.command("status", "show a latched stop, the last ack, bundle slots", _status)
    ack = cli.command("ack", "clear a latched safety stop once a person has looked (logged)", _ack)
    for parser in (status, ack):
        parser.add_argument("--config", help="robot TOML (when it sets [robot] state_dir)")
    ack.add_argument("--by", required=True, help="who clears the stop")
    ack.add_argument("--why", required=True, help="what was checked or fixed")
    bench_world_model.register(cli)
    console.register(cli)


def _common(parser: argparse.ArgumentParser, default_duration: float | None = None) -> None:
    parser.add_argument(
        "--duration",
        type=float,
        default=default_duration,
        help="seconds to run (default: until stopped)",
    )
    parser.add_argument("--out", default="out", help="directory for the report and plot")
    parser.add_argument("--record", help="record the run (episode log) into this directory")
    parser.add_argument("--backend", choices=BACKENDS)


def _options(args: argparse.Namespace, bundle: Path | None, seed: int | None) -> DriveOptions:
    from edge_runtime.drive import DriveOptions

    return DriveOptions(
        duration_s=args.duration,
        out_dir=Path(args.out),
        record_dir=Path(args.record) if args.record else None,
        backend=args.backend,
        bundle=bundle,
        trusted_keys=tuple(getattr(args, "trusted_key", ())),
        seed=seed,
    )


def _run(args: argparse.Namespace) -> int:
    from edge_runtime.config import load_config
    from edge_runtime.field.service import run_latched

    return _finish(run_latched(load_config(args.config), _options(args, None, None)))


def _demo(args: argparse.Namespace) -> int:
    os.environ.setdefault("MUJOCO_GL", "osmesa")
    os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")
    from edge_runtime.drive import demo_bundle, demo_config, drive

    bundle = Path(args.bundle) if args.bundle else demo_bundle(Path(args.out))
    config = demo_config(args.motors, args.robot)
    return _finish(drive(config, _options(args, bundle, args.seed)))


def _finish(outcome: DriveOutcome) -> int:
    from edge_runtime.pipeline.report import print_report

    print_report(outcome.report)
    print(f"report: {outcome.report_path}  plot: {outcome.plot_path}")
    error = outcome.result.error()
    if error is not None:
        raise error
    return 0


def _status(args: argparse.Namespace) -> int:
    from edge_runtime.field.status import field_status

    status = field_status(args.config)
    print("\n".join(status.lines()))
    return status.exit_code


def _ack(args: argparse.Namespace) -> int:
    from edge_runtime.field.status import acknowledge_stop

    print(acknowledge_stop(args.config, args.by, args.why))
    return 0
