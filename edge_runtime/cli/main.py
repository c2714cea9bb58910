"""`edgerun`: entry point. Turns project errors into one sentence and their exit code."""

from __future__ import annotations

import argparse
import logging
import sys

from edge_runtime import __version__
from edge_runtime.cli.tree import CommandTree
from edge_runtime.errors import EdgeRuntimeError

log = logging.getLogger("edgerun")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edgerun",
        description="Run physical-AI models on robots: export, build, calibrate, run.",
    )
    parser.add_argument("--version", action="version", version=f"edgerun {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    tree = CommandTree(parser)
    from importlib.metadata import entry_points  # not at the top: spawn re-imports this module

    for entry in sorted(entry_points(group="edgerun.commands"), key=lambda e: e.name):
        try:
            register = entry.load()
            register(tree)
        except Exception as exc:  # a broken plugin must not take the whole CLI down
            print(f"edgerun: commands from '{entry.value}' are unavailable: {exc}", file=sys.stderr)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args) or 0)
    except EdgeRuntimeError as exc:  # the whole project's tree, firmware_bridge included
        print(f"edgerun: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("edgerun: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
