"""Serving a simulated device until SIGTERM, and the checks on the path its link goes to."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from firmware_bridge.mcu.errors import McuConfigError
from firmware_bridge.sim.serve import check_link_path, serve_until_signal


def test_sigterm_ends_the_wait_then_stop_runs_and_the_handler_is_restored() -> None:
    calls: list[str] = []

    def start() -> None:
        calls.append("start")
        os.kill(os.getpid(), signal.SIGTERM)  # handled by serve_until_signal, not fatal

    before = signal.getsignal(signal.SIGTERM)
    serve_until_signal(start, lambda: calls.append("stop"))
    assert calls == ["start", "stop"]
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_failing_start_restores_the_handler_without_stopping() -> None:
    calls: list[str] = []

    def start() -> None:
        raise McuConfigError("cannot start")

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(McuConfigError):
        serve_until_signal(start, lambda: calls.append("stop"))
    assert calls == []
    assert signal.getsignal(signal.SIGTERM) is before


def test_link_path_checks(tmp_path: Path) -> None:
    assert check_link_path(tmp_path / "tty", McuConfigError) == tmp_path / "tty"
    old = tmp_path / "old"
    old.symlink_to("/dev/null")
    assert check_link_path(str(old), McuConfigError) == old  # an old link may be replaced
    precious = tmp_path / "notes.txt"
    precious.write_text("keep me")
    with pytest.raises(McuConfigError, match="is not a symlink"):
        check_link_path(precious, McuConfigError)
    with pytest.raises(McuConfigError, match="does not exist"):
        check_link_path(tmp_path / "no" / "tty", McuConfigError)
