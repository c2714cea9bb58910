"""`CommandTree`: how each package adds subcommands to `edgerun` without importing the others.

Every module listed in the `edgerun.commands` entry-point group has a `register(cli)` function
that calls `cli.command(...)`. Groups like `bench`, `sim`, `motors` and `calibrate` are shared:
`export` adds `bench models`, `calibration` adds `bench calibration`, and so on.
Handlers take the parsed `argparse.Namespace` and return an exit code.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

Handler = Callable[[argparse.Namespace], int]


class CommandTree:
    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.parser = parser
        self._root = parser.add_subparsers(dest="command", metavar="COMMAND")
        self._groups: dict[str, argparse._SubParsersAction] = {}

    def group(self, name: str, help: str) -> argparse._SubParsersAction:
        """The subcommand list of group `name` (created on first use)."""
        if name not in self._groups:
            parser = self._root.add_parser(name, help=help, description=help)
            parser.set_defaults(handler=lambda _args, p=parser: _print_help(p))
            self._groups[name] = parser.add_subparsers(dest=f"{name}_command", metavar="COMMAND")
        return self._groups[name]

    def command(
        self,
        name: str,
        help: str,
        handler: Handler,
        group: str | None = None,
        group_help: str = "",
        description: str | None = None,
    ) -> argparse.ArgumentParser:
        """Add `edgerun [group] name`; returns its parser for the caller's arguments."""
        parent = (
            self._root if group is None else self.group(group, group_help or f"{group} commands")
        )
        parser = parent.add_parser(
            name,
            help=help,
            description=description or help,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.set_defaults(handler=handler)
        return parser


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def positive(kind: type) -> Any:
    """An argparse `type` accepting numbers of `kind` that are > 0, with a one-line error."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value

    return parse
