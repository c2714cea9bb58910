"""`edgerun camera list|check|synth` and `edgerun bench camera`.

Thin: parsing and rendering. What is measured lives in `edge_runtime.sensors.camera_check`;
pyrealsense2 is imported only when a command runs, so `edgerun --help` works without it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from edge_runtime.cli.groups import BENCH
from edge_runtime.cli.tree import CommandTree, positive
from edge_runtime.errors import CameraError

CAMERA = {
    "group": "camera",
    "group_help": "RealSense cameras and recordings: list, check, synthesize",
}


def register(cli: CommandTree) -> None:
    """Add this module's commands to `edgerun`."""
    cli.command("list", "list the RealSense cameras plugged in", _list, **CAMERA)

    check = cli.command(
        "check",
        "read frames from a camera or a recording: rate, pairing, intrinsics, depth scale, drops",
        _check,
        **CAMERA,
    )
    source = check.add_mutually_exclusive_group(required=True)
    source.add_argument("--serial", help="serial number of a live camera ('' = first found)")
    source.add_argument("--playback", metavar="FILE", help="a .db3 (or .bag) recording")
    source.add_argument("--config", metavar="ROBOT.toml", help="every camera: frame sets, skew")
    check.add_argument("--seconds", type=float, default=3.0, help="live: how long to read")
    _stream_args(check)
    check.add_argument("--json", metavar="FILE", help="also write the result as JSON")

    synth = cli.command(
        "synth",
        "write a .db3 recording of a synthetic RGB-D scene through pyrealsense2 (no camera needed)",
        _synth,
        **CAMERA,
    )
    synth.add_argument("out", metavar="OUT.db3")
    synth.add_argument("--frames", type=int, default=90)
    _stream_args(synth)
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument(
        "--no-compress",
        action="store_true",
        help="skip librealsense's frame compression (2x the size, several times faster playback)",
    )

    bench = cli.command(
        "camera",
        "play a recording as fast as possible (paired, aligned frames per second)",
        _bench,
        **BENCH,
    )
    bench.add_argument("--playback", metavar="FILE", required=True, help="a .db3 recording")
    bench.add_argument(
        "--runs", type=positive(int), default=3, help="repetitions (median is reported)"
    )
    bench.add_argument("--json", metavar="FILE", help="also write the results as JSON")


def _stream_args(parser: argparse.ArgumentParser) -> None:
    for flag, default in (("--width", 640), ("--height", 480), ("--fps", 30)):
        parser.add_argument(flag, type=int, default=default)


def _list(_args: argparse.Namespace) -> int:
    from edge_runtime.bench.report import print_table
    from edge_runtime.sensors.camera_check import list_cameras

    rows = list_cameras()
    if not rows:
        print("no RealSense camera found (check the USB 3 cable and `lsusb`)")
        return 0
    cols = [("name", "name"), ("serial", "serial"), ("firmware", "firmware"), ("usb", "USB")]
    print_table("RealSense cameras", rows, cols)
    return 0


def _check(args: argparse.Namespace) -> int:
    from edge_runtime.bench.report import print_table, write_outputs
    from edge_runtime.sensors import camera_check, camera_set_check

    if args.config:
        result = camera_set_check.check_cameras(args.config, args.seconds)
    elif args.playback:
        result = camera_check.check_playback(args.playback)
    else:
        result = camera_check.check_live(
            args.serial, args.seconds, args.width, args.height, args.fps
        )
    rows = (camera_set_check.camera_set_rows if args.config else camera_check.check_rows)(result)
    print_table("camera check", rows, [("what", ""), ("value", "")])
    write_outputs(result, args.json)
    for problem in result.get("problems", []):  # what the runtime cannot use: refused, exit 2
        print(f"edgerun: {problem}", file=sys.stderr)
    return 2 if result.get("problems") else 0


def _synth(args: argparse.Namespace) -> int:
    from edge_runtime.sensors.realsense_synth import write_synthetic_recording

    if args.frames < 1 or args.width < 16 or args.height < 16 or args.fps < 1:
        raise CameraError("--frames and --fps must be >= 1, --width and --height >= 16")
    path = write_synthetic_recording(
        Path(args.out),
        args.frames,
        args.width,
        args.height,
        args.fps,
        args.seed,
        compress=not args.no_compress,
    )
    print(f"wrote {path} ({args.frames} frames, {args.width}x{args.height} @ {args.fps} fps)")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from edge_runtime.bench.report import print_table, write_outputs
    from edge_runtime.sensors.camera_check import bench_playback, bench_rows

    result = bench_playback(args.playback, args.runs)
    rows, columns, caption = bench_rows(result)
    print_table("bench camera (playback, paired + aligned)", rows, columns, caption=caption)
    write_outputs(result, args.json)
    return 0
