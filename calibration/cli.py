"""`edgerun calibrate board|camera|handeye|joints|depth|int8|validate|show`, `bench calibration`.

Parsing only; handlers live in `calibration.commands_*` and are imported when a command runs,
so `edgerun --help` never imports OpenCV or MuJoCo.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable

from edge_runtime.cli.groups import BENCH
from edge_runtime.cli.tree import CommandTree
from edge_runtime.console.extensions import add_pages

GROUP = "calibrate"
GROUP_HELP = "field calibration: board, camera, hand-eye, joints, depth, INT8 data; validate"


def _lazy(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        return int(getattr(importlib.import_module(module), name)(args))

    return handler


def _cmd(cli: CommandTree, name: str, help: str, module: str, func: str) -> argparse.ArgumentParser:
    return cli.command(name, help, _lazy(module, func), group=GROUP, group_help=GROUP_HELP)


def _artifact_command(
    cli: CommandTree, name: str, help: str, module: str, board: bool = False
) -> argparse.ArgumentParser:
    """A command that measures one artifact into `--out` (handler `module.name`).

    They all write into a calibration directory, may prompt an engineer, and most look at
    the ChArUco board: those arguments are declared here once.
    """
    parser = _cmd(cli, name, help, module, name)
    parser.add_argument("--out", required=True, help="calibration directory ([calibration] dir)")
    if board:
        from calibration.session import add_board_args

        add_board_args(parser)
    parser.add_argument(
        "--non-interactive", action="store_true", help="never prompt (scripted / CI runs)"
    )
    return parser


def _serial(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--serial", default="", help="camera serial recorded in the artifact")


def _camera_choice(parser: argparse.ArgumentParser) -> None:
    """`--camera NAME`: which of the config's `[[cameras]]` to look through (default primary)."""
    parser.add_argument(
        "--camera", default="", metavar="NAME", help="with --config: that [[cameras]] entry"
    )


def register(cli: CommandTree) -> None:
    from calibration.session import add_board_args

    add_pages("calibration.console_pages:setup", "Calibrate", "/calibrate")  # edgerun console
    cam_mod, robot_mod = "calibration.commands_camera", "calibration.commands_robot"
    art_mod = "calibration.commands_artifacts"

    board = _cmd(
        cli, "board", "write a printable ChArUco board (PNG + PDF) and board.json", cam_mod, "board"
    )
    board.add_argument("--out", required=True, help="directory for board.png/.pdf/.json")
    add_board_args(board)
    board.add_argument("--page", default="a4", help="PDF page: a4, letter, a3 or fit")
    board.add_argument("--dpi", type=int, default=300, help="PNG resolution")

    camera = _artifact_command(
        cli, "camera", "camera intrinsics from board views (images or a live camera)", cam_mod, True
    )
    source = camera.add_mutually_exclusive_group(required=True)
    source.add_argument("--images", metavar="DIR", help="folder of board images (png/jpg)")
    source.add_argument("--config", help="robot config: capture from its camera")
    camera.add_argument("--views", type=int, default=25, help="live: views to collect")
    camera.add_argument("--timeout", type=float, default=300.0, help="live: give up after (s)")
    _serial(camera)
    _camera_choice(camera)

    handeye = _artifact_command(
        cli, "handeye", "camera pose relative to the robot (AX=XB, every method)", robot_mod, True
    )
    handeye.add_argument("--mode", choices=("to-hand", "in-hand"), default="to-hand")
    handeye.add_argument("--mjcf", help="robot MJCF (default: the simulated arm's when sim)")
    handeye.add_argument("--ee-site", default="ee_site", help="MJCF site the board/camera is on")
    handeye.add_argument("--intrinsics", help="camera_intrinsics.json (default: OUT's)")
    src = handeye.add_mutually_exclusive_group(required=True)
    src.add_argument("--recorded", metavar="DIR", help="recorded poses.json + images to solve")
    src.add_argument("--config", help="robot config: propose poses, drive there, capture")
    handeye.add_argument("--poses", type=int, default=15, help="live: poses to visit")
    handeye.add_argument("--view-camera", help="MJCF camera giving a rough camera pose")
    handeye.add_argument("--propose-only", action="store_true", help="print poses, do not move")
    handeye.add_argument("--seed", type=int, default=0, help="pose proposal seed")
    _camera_choice(handeye)

    joints = _artifact_command(
        cli, "joints", "zero offsets and limits per motor, then a verify move", robot_mod
    )
    joints.add_argument("--config", required=True, help="robot config (motors and ids)")
    joints.add_argument("--poses", metavar="TOML", help="scripted readings (see docs)")
    joints.add_argument("--margin", type=float, default=0.05, help="limit margin, rad")
    joints.add_argument("--no-verify", action="store_true", help="skip the verify moves")

    depth = _artifact_command(
        cli, "depth", "depth error against the board plane; flags self-calibration", cam_mod, True
    )
    depth.add_argument("--config", required=True, help="robot config (its camera)")
    depth.add_argument("--frames", type=int, default=10, help="frames to average")
    depth.add_argument("--tolerance-pct", type=float, default=1.0, help="%% of distance")
    _serial(depth)
    _camera_choice(depth)

    int8 = _artifact_command(
        cli, "int8", "capture camera + joint observations for INT8 quantization", robot_mod
    )
    int8.add_argument("--config", required=True, help="robot config (camera and motors)")
    int8.add_argument("--count", type=int, default=200, help="observations to capture")
    int8.add_argument("--interval", type=float, default=0.2, help="seconds between samples")
    _serial(int8)
    _camera_choice(int8)
    int8.add_argument(
        "--preprocess", metavar="HxW", help="also write int8_observations.npz at this size"
    )
    int8.add_argument("--depth-max-m", type=float, default=2.0, help="with --preprocess")
    int8.add_argument("--rgb-mean", default="0,0,0", help="with --preprocess, e.g. 0.5,0.5,0.5")
    int8.add_argument("--rgb-std", default="1,1,1", help="with --preprocess")

    validate = _cmd(
        cli,
        "validate",
        "is a calibration directory complete, intact, for this robot",
        art_mod,
        "validate",
    )
    validate.add_argument("dir")
    validate.add_argument("--config", help="robot config: check motor ids (and camera serial)")
    validate.add_argument("--ids", help="motor ids, e.g. 1,2,3,4 (instead of --config)")
    validate.add_argument("--serial", default="", help="connected camera serial")
    validate.add_argument("--probe", action="store_true", help="also open the motors and check")
    validate.add_argument(
        "--require", default="joints", help="kinds that must be present (comma list or 'all')"
    )

    show = _cmd(cli, "show", "print what a calibration directory holds", art_mod, "show")
    show.add_argument("dir")

    bench = cli.command(
        "calibration",
        "synthetic calibration accuracy: intrinsics and hand-eye against known ground truth",
        _lazy("calibration.bench", "bench"),
        **BENCH,
    )
    bench.add_argument("--views", type=int, default=30, help="board views / robot poses")
    bench.add_argument("--seed", type=int, default=0)
    bench.add_argument(
        "--no-images", action="store_true", help="skip the rendered-image pipeline (fast)"
    )
    bench.add_argument("--json", metavar="FILE", help="also write the results as JSON")
