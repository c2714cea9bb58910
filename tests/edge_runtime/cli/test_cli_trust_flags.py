"""`--trusted-key`/`--allow-unsigned` and their hidden old spellings `--key`/`--development`."""

from __future__ import annotations

import argparse

import pytest

from edge_runtime.cli.trust_flags import add_trust_flags


def _parser(allow_unsigned: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edgerun test")
    add_trust_flags(parser, allow_unsigned=allow_unsigned)
    return parser


def test_cli_trust_flags_defaults_and_new_spelling(capsys: pytest.CaptureFixture[str]) -> None:
    assert vars(_parser().parse_args([])) == {"trusted_key": [], "allow_unsigned": False}
    args = _parser().parse_args(
        ["--trusted-key", "a.pub", "--trusted-key=b.pub", "--allow-unsigned"]
    )
    assert args.trusted_key == ["a.pub", "b.pub"]
    assert args.allow_unsigned is True
    assert capsys.readouterr().err == ""


def test_cli_trust_flags_old_spelling_is_the_same_flag(capsys: pytest.CaptureFixture[str]) -> None:
    args = _parser().parse_args(["--key", "a.pub", "--trusted-key", "b.pub", "--development"])
    assert args.trusted_key == ["a.pub", "b.pub"]
    assert args.allow_unsigned is True
    err = capsys.readouterr().err
    assert "--key is deprecated; use --trusted-key" in err
    assert "--development is deprecated; use --allow-unsigned" in err


def test_cli_trust_flags_help_names_only_the_new_spelling() -> None:
    text = _parser().format_help()
    assert "--trusted-key PUB" in text
    assert "--allow-unsigned" in text
    assert "--key" not in text.replace("--trusted-key", "")
    assert "--development" not in text


def test_cli_trust_flags_without_allow_unsigned() -> None:
    parser = _parser(allow_unsigned=False)
    assert vars(parser.parse_args(["--key", "a.pub"])) == {"trusted_key": ["a.pub"]}
    with pytest.raises(SystemExit):
        parser.parse_args(["--allow-unsigned"])
