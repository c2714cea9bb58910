"""One spelling for the flags that say which bundles to trust, and hidden aliases for old ones.

Every command that opens a bundle (`run`/`demo`, `replay`, `verify`, `build`, `bench models`)
takes `--trusted-key PUB` (repeatable) and, where unsigned bundles make sense, `--allow-unsigned`.
Earlier releases spelled them `--key` and `--development` in the device commands; those still
work for one release as hidden aliases (absent from `--help`) that say the new name on stderr,
so scripts keep running while their authors are told what to change.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


class _HiddenAlias(argparse.Action):
    """An old spelling of `canonical`: parses like it, acts like it, and names the new flag."""

    def __init__(self, option_strings: list[str], dest: str, canonical: argparse.Action) -> None:
        super().__init__(
            option_strings, dest, nargs=canonical.nargs, const=canonical.const,
            default=argparse.SUPPRESS, metavar=canonical.metavar, help=argparse.SUPPRESS,
        )  # fmt: skip
        self.canonical = canonical

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        new = self.canonical.option_strings[0]
        print(f"{parser.prog}: {option} is deprecated; use {new}", file=sys.stderr)
        self.canonical(parser, namespace, values, option)


def add_trust_flags(parser: argparse.ArgumentParser, allow_unsigned: bool = True) -> None:
    """`--trusted-key PUB` (repeatable; args.trusted_key) and `--allow-unsigned`.

    `args.trusted_key` is a list of paths; `args.allow_unsigned` is a bool (only when
    `allow_unsigned` is true: a command that never loads unsigned bundles does not offer it).
    """
    flags = [
        ("--key", parser.add_argument(
            "--trusted-key", action="append", default=[], metavar="PUB",
            help="trusted public key (.pub from `edgerun keys generate`); repeat for more",
        )),
    ]  # fmt: skip
    if allow_unsigned:
        flags.append(("--development", parser.add_argument(
            "--allow-unsigned", action="store_true",
            help="accept an unsigned or untrusted bundle (development and bench tests only)",
        )))  # fmt: skip
    for old, canonical in flags:
        parser.add_argument(old, action=_HiddenAlias, dest=canonical.dest, canonical=canonical)
