"""`edgerun record`, `log info`, `log export`, `replay` and `bench recorder`.

Thin: parsing and rendering; the work is in `edge_runtime.recording`. The runtime's
`run --record DIR` attaches `EpisodeRecorder` itself; `record` here is sensors only.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from edge_runtime.cli.groups import BENCH
from edge_runtime.cli.tree import CommandTree, positive
from edge_runtime.cli.trust_flags import add_trust_flags
from edge_runtime.engines import BACKENDS


def register(cli: CommandTree) -> None:
    """Add this module's commands to `edgerun`."""
    rec = cli.command(
        "record",
        "record camera frames and joint states (sensors only, torque stays off) to an episode log",
        _record,
    )
    rec.add_argument("--out", required=True, metavar="DIR", help="new directory for the log")
    rec.add_argument("--config", metavar="TOML", help="robot config: camera and motors from it")
    source = rec.add_mutually_exclusive_group()
    source.add_argument("--serial", help="record this live RealSense camera")
    source.add_argument("--playback", metavar="FILE", help="record from a .db3 recording")
    rec.add_argument("--seconds", type=float, help="stop after this long (default: Ctrl-C)")
    rec.add_argument("--no-motors", action="store_true", help="camera only, even with --config")
    rec.add_argument("--db3", action="store_true", help="live camera: also write DIR/camera.db3")

    info = cli.command(
        "info",
        "summarize an episode log: records, streams, lateness, inference latency, events",
        _info,
        group="log",
        group_help="episode logs",
    )
    info.add_argument("log", metavar="LOG", help="log directory (or one .erlog segment)")
    info.add_argument("--json", metavar="FILE", help="also write the summary as JSON")
    info.add_argument("--plot", metavar="PNG", help="write a timeline plot")

    exp = cli.command("export", "episode logs as a LeRobotDataset or MCAP files", _export, "log")
    exp.add_argument("logs", nargs="+", metavar="LOG", help="log directories (or .erlog files)")
    exp.add_argument("--format", required=True, choices=("lerobot", "mcap"))
    exp.add_argument("--out", required=True, help="new dataset directory, or FILE.mcap / DIR")
    exp.add_argument("--task", help="lerobot: the task text of every episode")
    exp.add_argument("--fps", type=positive(int), help="lerobot: rate (default: the camera's)")
    exp.add_argument("--video-codec", default="mjpeg", choices=("mjpeg", "h264", "av1"))
    exp.add_argument("--no-depth", action="store_true", help="lerobot: leave depth out (faster)")
    exp.add_argument("--jobs", type=positive(int), help="local processes (default: one per core)")
    exp.add_argument("--ray", metavar="ADDRESS", help="run on this existing Ray cluster")

    rep = cli.command(
        "replay",
        "replay a log's frames and joint states through a bundle; action error per joint",
        _replay,
    )
    rep.add_argument("log", metavar="LOG")
    rep.add_argument("--bundle", required=True, metavar="B", help="bundle directory or .tar")
    rep.add_argument("--backend", default="auto", choices=BACKENDS)
    add_trust_flags(rep)
    rep.add_argument("--max-frames", type=int, help="replay at most this many frames")
    rep.add_argument("--json", metavar="FILE", help="also write the result as JSON")

    bench = cli.command(
        "recorder",
        "recorder codecs and its cost to a 100 Hz control loop (with vs without recording)",
        _bench,
        **BENCH,
    )
    bench.add_argument(
        "--seconds", type=positive(float), default=20.0, help="length of each loop run"
    )
    bench.add_argument("--rate", type=positive(float), default=100.0, help="control rate in Hz")
    bench.add_argument("--no-realtime", action="store_true", help="skip SCHED_FIFO etc.")
    bench.add_argument("--dir", metavar="DIR", help="where to write the temporary log")
    bench.add_argument("--json", metavar="FILE", help="also write the results as JSON")


def _record(args: argparse.Namespace) -> int:
    from edge_runtime.recording.capture import RecordOptions, record_sensors

    options = RecordOptions(
        out=Path(args.out),
        config=Path(args.config) if args.config else None,
        serial=args.serial,
        playback=Path(args.playback) if args.playback else None,
        seconds=args.seconds,
        motors=not args.no_motors,
        db3=args.db3,
    )
    summary, intact = record_sensors(options)
    print(json.dumps(summary))
    return 0 if intact else 1


def _info(args: argparse.Namespace) -> int:
    from edge_runtime.bench.report import print_table, write_json
    from edge_runtime.recording.summary import plot_timeline, summarize, summary_rows

    info, line = summarize(args.log)
    print_table(f"log {args.log}", summary_rows(info), [("what", ""), ("value", "")])
    for problem in info["problems"]:
        print(f"damaged, skipped: {problem}")
    if args.plot:
        print(f"plot: {plot_timeline(info, line, args.plot)}")
    if args.json:
        info.pop("t0_ns", None)
        print(f"json: {write_json(args.json, info)}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from edge_runtime.recording.export import ExportOptions, export_logs

    logs, out = tuple(Path(p) for p in args.logs), Path(args.out)
    codec, jobs, ray, depth = args.video_codec, args.jobs, args.ray, not args.no_depth
    options = ExportOptions(logs, args.format, out, args.task, args.fps, codec, jobs, ray, depth)
    print(json.dumps(export_logs(options)))
    return 0


def _replay(args: argparse.Namespace) -> int:
    from edge_runtime.bench.report import print_table, write_outputs
    from edge_runtime.recording.replay import COLUMNS, replay_bundle, replay_caption

    result = replay_bundle(
        args.log, args.bundle, args.trusted_key, args.allow_unsigned, args.backend, args.max_frames
    )
    title = f"replay {args.log} through {args.bundle}"
    print_table(title, result["per_joint"], COLUMNS, caption=replay_caption(result))
    for warning in result["warnings"]:
        print(f"warning: {warning}")
    write_outputs(result, args.json)
    return 0


def _bench(args: argparse.Namespace) -> int:
    from edge_runtime.bench.report import print_table, write_outputs
    from edge_runtime.recording.bench import CODEC_COLUMNS, LOOP_COLUMNS, run_recorder_bench

    result = run_recorder_bench(args.seconds, args.rate, not args.no_realtime, args.dir)
    print_table(
        "recorder codecs (640x480 synthetic scene, median of 3)",
        result["codecs"],
        CODEC_COLUMNS,
    )
    print_table(
        f"control loop at {args.rate:g} Hz with a 30 fps 640x480 RGB-D camera",
        result["runs"],
        LOOP_COLUMNS,
        caption="targets: lateness p99 <= 300 µs, 0 missed, 0 drops",
    )
    write_outputs(result, args.json)
    return 0
