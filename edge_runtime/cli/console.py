"""`edgerun console`: the field engineer's web page (edge_runtime.console)."""

from __future__ import annotations

import argparse

from edge_runtime.cli.tree import CommandTree


def register(cli: CommandTree) -> None:
    console = cli.command("console", "serve the field console (a local web page)", _console)
    console.add_argument("--bind", default="127.0.0.1:8470", help="ADDR:PORT (non-local: token)")
    console.add_argument("--config", help="robot TOML (state_dir; rollback checks the bundle)")
    console.add_argument("--data", help="directory holding logs/ and calibration/ (default: state)")


def _console(args: argparse.Namespace) -> int:
    from edge_runtime.console.server import serve_console

    return serve_console(args.bind, args.config, args.data)
