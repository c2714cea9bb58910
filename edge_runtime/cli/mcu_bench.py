"""`edgerun bench mcu`: prints and saves what `edge_runtime.bench.mcu` measures."""

from __future__ import annotations

import argparse

from edge_runtime.cli.groups import BENCH
from edge_runtime.cli.tree import CommandTree


def register(cli: CommandTree) -> None:
    """Add `edgerun bench mcu`."""
    b = cli.command(
        "mcu",
        "measure the MCU link's host CPU, latency and wire bytes against the simulated MCU",
        _bench,
        **BENCH,
    )
    b.add_argument("--motors", type=int, default=12, help="number of motors (default 12)")
    b.add_argument("--cycles", type=int, default=1000, help="control periods (default 1000)")
    b.add_argument("--period-ms", type=float, default=10.0, help="control period (default 10)")
    b.add_argument("--json", metavar="FILE", help="also write the figures as JSON")


def _bench(args: argparse.Namespace) -> int:
    from edge_runtime.bench.mcu import measure, summary  # numpy-heavy work only when asked for
    from edge_runtime.bench.report import print_summary, write_outputs

    result = measure(args.motors, args.cycles, args.period_ms / 1000)
    print_summary(*summary(result))
    write_outputs(result, args.json)
    return 0
