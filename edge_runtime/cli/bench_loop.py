"""`edgerun bench loop`: control-loop lateness under inference load, edgerun vs a baseline.

Parsing and printing only: `edge_runtime.bench.loop_bench` measures and judges the runs
against the targets in `edge_runtime.bench.loop_targets`.
"""

from __future__ import annotations

import argparse
import os
import sys

from edge_runtime.cli import bench_faults
from edge_runtime.cli import eval as eval_command
from edge_runtime.cli.groups import BENCH
from edge_runtime.cli.tree import CommandTree, positive


def register(cli: CommandTree) -> None:
    """Add `edgerun bench loop` (and `bench faults`, `eval`)."""
    bench_faults.register(cli)
    eval_command.register(cli)
    parser = cli.command(
        "loop",
        "control-loop lateness under inference load: edgerun vs a time.sleep baseline",
        _bench_loop,
        description=(
            "Runs the control loop while an inference worker runs a ~25 ms ONNX Runtime model\n"
            "plus Python preprocessing of 640x480 RGB-D frames, and, under the same load, a\n"
            "baseline loop paced with time.sleep like LeRobot's. Then measures the scheduler's\n"
            "own per-tick cost with no load. 10,000 ticks at 100 Hz take 100 s per loop."
        ),
        **BENCH,
    )
    parser.add_argument(
        "--rate",
        type=positive(float),
        nargs="+",
        default=[100.0, 500.0],
        metavar="HZ",
        help="control rates to measure (default: 100 500)",
    )
    parser.add_argument(
        "--ticks", type=positive(int), default=10_000, metavar="N", help="ticks per loop"
    )
    parser.add_argument("--json", metavar="FILE", help="write the results here")
    parser.add_argument("--plot", metavar="PNG", help="write lateness over time + histogram")
    parser.add_argument(
        "--load",
        choices=["full", "ort", "python", "none"],
        default="full",
        help="inference load beside the loop (default: full = preprocessing + ORT model)",
    )
    parser.add_argument(
        "--isolation",
        choices=["thread", "process", "both"],
        default="both",
        help="edgerun loop on a thread of the bench process, in its own process, or both (default)",
    )
    parser.add_argument(
        "--spin-us", type=float, default=200.0, help="spin before each deadline (default 200)"
    )
    parser.add_argument(
        "--switch-interval-us",
        type=float,
        default=None,
        help="GIL switch interval for the edgerun loop (default: CPython's 5000)",
    )
    parser.add_argument(
        "--no-realtime",
        action="store_true",
        help="skip SCHED_FIFO / affinity / mlock / gc freeze / timer slack for the edgerun loop",
    )


def _bench_loop(args: argparse.Namespace) -> int:
    from rich.console import Console

    from edge_runtime.bench.loop_bench import (
        TABLE_COLUMNS,
        LoopSettings,
        json_payload,
        load_caption,
        run_loop_bench,
    )  # fmt: skip
    from edge_runtime.bench.report import print_table, write_outputs

    console = Console(width=None if sys.stdout.isatty() else 150)
    switch_interval_s = None if args.switch_interval_us is None else args.switch_interval_us / 1e6
    variants = LoopSettings.variants(
        args.isolation, args.spin_us / 1e6, not args.no_realtime, switch_interval_s
    )
    seconds = (1 + len(variants)) * sum(args.ticks / r for r in args.rate)
    console.print(
        f"bench loop: {args.load} load, rates {', '.join(f'{r:g}' for r in args.rate)} Hz, "
        f"{args.ticks:,} ticks per loop (about {seconds / 60:.1f} min); "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}"
    )

    def on_run(loop: str, rate: float) -> None:
        console.print(f"  running {loop} at {rate:g} Hz ...")

    result = run_loop_bench(
        args.rate,
        args.ticks,
        args.load,
        variants,
        overhead_ticks=min(args.ticks, 5000),
        on_run=on_run,
    )
    runs = result["runs"]
    print_table("control loop lateness (µs) under load", runs, TABLE_COLUMNS, console,
                caption=load_caption(result["load"]))  # fmt: skip
    for line in result["verdicts"]:
        console.print(line)
    if args.plot:
        from edge_runtime.bench.loop_plot import plot_lateness

        console.print(f"plot: {plot_lateness(runs, args.plot)}")
    write_outputs(json_payload(result), args.json, echo=console.print)
    return 0
