"""Shared arguments: one spelling shown in --help, the old spelling still accepted (hidden)."""

from __future__ import annotations

import argparse

import pytest

from edge_runtime.cli.args import add_allow_unsigned, add_trusted_key
from edge_runtime.cli.main import build_parser


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_trusted_key(parser)
    add_allow_unsigned(parser)
    return parser


def test_cli_args_old_spellings_still_work() -> None:
    args = _parser().parse_args(["--trusted-key", "a.pub", "--key", "b.pub", "--development"])
    assert args.trusted_key == ["a.pub", "b.pub"]
    assert args.allow_unsigned is True


def test_cli_args_help_shows_only_the_new_spelling() -> None:
    text = _parser().format_help()
    assert "--trusted-key" in text
    assert "--allow-unsigned" in text
    assert "--key" not in text.replace("--trusted-key", "")
    assert "--development" not in text


@pytest.mark.parametrize("command", [["demo"], ["replay"]])
def test_cli_args_commands_spell_trusted_key_alike(command: list[str]) -> None:
    parser = build_parser()
    sub = parser._subparsers._group_actions[0].choices[command[0]]  # type: ignore[union-attr]
    assert "--trusted-key" in sub.format_help()
