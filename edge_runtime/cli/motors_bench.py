"""`edgerun bench motors`: prints and saves what `edge_runtime.bench.motors` measures."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from edge_runtime.cli.groups import BENCH
from edge_runtime.cli.tree import CommandTree
from firmware_bridge.errors import BridgeError


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
    p.add_argument("--json", type=Path, help="write the results here")
    p.add_argument("--rt", action="store_true", help="run at SCHED_FIFO, as on the robot (root)")


def _bench(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from edge_runtime.bench.motors import measure  # numpy and the SDK only when asked for

    if not 1 <= args.servos <= 252:
        raise BridgeError(f"--servos must be within 1..252, got {args.servos}")
    if args.cycles < 100:
        raise BridgeError(f"--cycles must be at least 100 for a p99, got {args.cycles}")
    console = Console()
    console.print(
        f"benchmarking {args.servos} simulated servos, {args.cycles} cycles per driver ..."
    )
    result = measure(args.servos, args.cycles, realtime=args.rt)
    if args.rt and not result["sched_fifo"]:
        console.print("--rt: SCHED_FIFO not permitted here (needs root or CAP_SYS_NICE)")
    sched = "SCHED_FIFO" if result["sched_fifo"] else "default scheduling"
    table = Table(title=f"motor bus cycle, {args.servos} servos, sync write + sync read, {sched}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    cpu = result["cpu_us_per_cycle"]
    table.add_row("host CPU / cycle, edgerun (fast sync read)", f"{cpu['edgerun']} µs")
    table.add_row("host CPU / cycle, dynamixel-sdk (sync read)", f"{cpu['dynamixel_sdk']} µs")
    table.add_row("CPU ratio sdk / edgerun", f"{result['cpu_ratio']}×")
    for name, key in (
        ("cycle p50 / p99 over pty, edgerun", "cycle_us"),
        ("cycle p50 / p99 over pty, dynamixel-sdk", "sdk_cycle_us"),
        ("bare pty round trip p50 / p99 (floor)", "pty_round_trip_us"),
    ):
        table.add_row(name, "{p50} / {p99} µs".format(**result[key]))
    table.add_row("failed reads edgerun / sdk", "{edgerun} / {dynamixel_sdk}".format(
        **result["failed_reads"]))  # fmt: skip
    table.add_row("wire bytes / cycle", str(result["wire_bytes"]))
    for baud, us in result["wire_us"].items():
        table.add_row(f"wire time at {int(baud) // 1000} kbaud", f"{us} µs")
    console.print(table)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        console.print(f"wrote {args.json}")
    return 0
