"""`edgerun bench motors`: prints and saves what `edge_runtime.bench.motors` measures."""

from __future__ import annotations

import argparse

from edge_runtime.cli.groups import BENCH
from edge_runtime.cli.tree import CommandTree


def register(cli: CommandTree) -> None:
    """Add `edgerun bench motors` and `edgerun bench buses`."""
    p = cli.command(
        "motors",
        "host CPU and latency per cycle: this driver vs dynamixel-sdk, simulated servos",
        _bench,
        **BENCH,
    )
    p.add_argument("--servos", type=int, default=12)
    p.add_argument("--cycles", type=int, default=2000)
    p.add_argument("--json", metavar="FILE", help="write the results here")
    p.add_argument("--rt", action="store_true", help="run at SCHED_FIFO, as on the robot (root)")
    p = cli.command("buses", "tick cost on 2 simulated buses: concurrent vs each alone",
                    _buses, **BENCH)  # fmt: skip
    p.add_argument("--servos", type=int, default=7, help="servos per bus")
    p.add_argument("--ticks", type=int, default=600, help="ticks per mode")
    p.add_argument("--delay-ms", type=float, help="reply delay (default: 1 Mbaud wire time)")
    p.add_argument("--json", metavar="FILE", help="write the results here")


def _bench(args: argparse.Namespace) -> int:
    from edge_runtime.bench.motors import measure, summary  # numpy and the SDK only when asked
    from edge_runtime.bench.report import print_summary, write_outputs

    print(f"benchmarking {args.servos} simulated servos, {args.cycles} cycles per driver ...")
    result = measure(args.servos, args.cycles, realtime=args.rt)
    if args.rt and not result["sched_fifo"]:
        print("--rt: SCHED_FIFO not permitted here (needs root or CAP_SYS_NICE)")
    print_summary(*summary(result))
    write_outputs(result, args.json)
    return 0


def _buses(args: argparse.Namespace) -> int:
    from edge_runtime.bench.buses import measure, summary
    from edge_runtime.bench.report import print_summary, write_outputs

    result = measure(args.servos, ticks=args.ticks, delay_ms=args.delay_ms)
    print_summary(*summary(result))
    write_outputs(result, args.json)
    return 0
