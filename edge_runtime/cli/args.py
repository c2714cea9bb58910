"""Arguments several commands share, spelled once so every command spells them alike.

Old spellings stay as hidden aliases for one release (`--key`, `--development`).
"""

from __future__ import annotations

import argparse


def add_trusted_key(parser: argparse.ArgumentParser) -> None:
    """`--trusted-key PUB` (repeatable); `--key` is the old spelling, kept hidden."""
    parser.add_argument(
        "--trusted-key", action="append", default=[], metavar="PUB", help="trusted public key"
    )
    parser.add_argument(
        "--key", action="append", dest="trusted_key", default=[], help=argparse.SUPPRESS
    )


def add_allow_unsigned(parser: argparse.ArgumentParser) -> None:
    """`--allow-unsigned`: load an unsigned bundle (bench tests); `--development` is hidden."""
    parser.add_argument(
        "--allow-unsigned", action="store_true", help="accept an unsigned bundle (bench tests)"
    )
    parser.add_argument(
        "--development", action="store_true", dest="allow_unsigned", help=argparse.SUPPRESS
    )
