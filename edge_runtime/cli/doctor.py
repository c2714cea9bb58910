"""`edgerun doctor`: prints `edge_runtime.doctor`'s checks; exit 1 if an essential one fails."""

from __future__ import annotations

import argparse

from edge_runtime.cli.tree import CommandTree


def register(cli: CommandTree) -> None:
    """Add `edgerun doctor`."""
    cli.command(
        "doctor",
        "check this machine: Python, inference backends, camera, serial ports, real-time",
        _doctor,
    )


def _doctor(_args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from edge_runtime.doctor import run_checks

    results = run_checks()
    table = Table(title="edgerun doctor")
    for column in ("check", "", "detail"):
        table.add_column(column)
    for result in results:
        mark = "[green]ok[/green]" if result.ok else "[yellow]--[/yellow]"
        table.add_row(result.name, mark, Text(result.detail))  # "[model]" is not markup
    Console().print(table)
    return 1 if any(r.essential and not r.ok for r in results) else 0
