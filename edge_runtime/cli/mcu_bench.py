"""`edgerun bench mcu`: prints and saves what `edge_runtime.bench.mcu` measures."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from edge_runtime.cli.groups import BENCH
from edge_runtime.cli.tree import CommandTree
from firmware_bridge.mcu.errors import McuConfigError


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
    from edge_runtime.bench.mcu import measure  # numpy-heavy work only when asked for

    if not 1 <= args.motors <= 64:
        raise McuConfigError(f"--motors {args.motors} is out of range; use 1-64")
    if not 10 <= args.cycles <= 1_000_000:
        raise McuConfigError(f"--cycles {args.cycles} is out of range; use 10-1000000")
    if not 1 <= args.period_ms <= 1000:
        raise McuConfigError(f"--period-ms {args.period_ms} is out of range; use 1-1000")
    if args.json and not Path(args.json).parent.is_dir():
        raise McuConfigError(f"--json {args.json}: its directory does not exist; create it first")
    result = measure(args.motors, args.cycles, args.period_ms / 1000)
    _print_table(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


def _print_table(r: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"MCU link over a pty: {r['motors']} motors, {r['cycles']} cycles of "
        f"{r['period_ms']:g} ms"
    )
    for column in ("measure", "p50", "p99", "max"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    for name, key in (
        ("read_state (µs)", "read_us"),
        ("read + write cycle (µs)", "cycle_us"),
        ("command round trip (µs)", "command_rtt_us"),
    ):
        table.add_row(name, *(f"{r[key][p]:.1f}" for p in ("p50", "p99", "max")))
    table.add_row("host CPU per cycle, whole process (µs)", f"{r['cpu_us_per_cycle']:.1f}")
    table.add_row("encode + decode per cycle, best of 5 (µs)", f"{r['codec_us_per_cycle']:.1f}")
    wire = r["wire_bytes"]
    table.add_row(
        "bytes per cycle (host→MCU / MCU→host)", f"{wire['host_to_mcu']} / {wire['mcu_to_host']}"
    )
    us = r["wire_us_per_direction"]
    table.add_row("wire time at 1 / 4 Mbaud (µs)", f"{us['1mbaud']:.0f} / {us['4mbaud']:.0f}")
    table.add_row(
        "lost / bad frames / timeouts / missed / watchdog trips",
        f"{r['lost']} / {r['bad_frames']} / {r['telemetry_timeouts']} / {r['missed_periods']}"
        f" / {r['watchdog_trips']}",
    )
    Console().print(table)
