"""Every `edgerun` command answers --help, and every package's commands are registered."""

from __future__ import annotations

import argparse

import pytest

from edge_runtime.cli.main import build_parser, main


def _commands(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append((*prefix, name))
                found.extend(_commands(sub, (*prefix, name)))
    return found


def test_plugins_load_without_errors(capsys: pytest.CaptureFixture[str]) -> None:
    build_parser()
    assert "unavailable" not in capsys.readouterr().err


def test_core_commands_exist() -> None:
    commands = set(_commands(build_parser()))
    for expected in [("run",), ("demo",), ("doctor",), ("bench", "loop")]:
        assert expected in commands


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in _commands(build_parser()):
        with pytest.raises(SystemExit) as exit_info:
            main([*command, "--help"])
        assert exit_info.value.code == 0, command
        assert "usage: edgerun" in capsys.readouterr().out


def test_doctor_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor"]) == 0
    assert "onnxruntime" in capsys.readouterr().out
