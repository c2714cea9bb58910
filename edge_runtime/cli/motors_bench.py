"""`edgerun bench motors`: prints and saves what `edge_runtime.bench.motors` measures."""

from __future__ import annotations

import argparse

from edge_runtime.cli.groups import BENCH
from edge_runtime.cli.tree import CommandTree


def register(cli: CommandTree) -> None:
    """Add `edgerun bench motors`."""
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
