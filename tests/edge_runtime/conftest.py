"""Fixtures shared by the runtime tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from isolation import call_isolated
from runtime_bundles import write_tiny_bundle


@pytest.fixture(autouse=True)
def _robot_state_in_tmp(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`run` latches safety stops in its state directory: never the machine's /var/lib, and no
    test talks to a systemd that happens to supervise the test runner."""
    monkeypatch.setenv("EDGE_RUNTIME_STATE_DIR", str(tmp_path_factory.mktemp("state")))
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Tests marked `isolated` (pyrealsense2 can abort the interpreter) run in a child."""
    return call_isolated(pyfuncitem)


@pytest.fixture
def tiny_bundle(tmp_path: Path) -> Path:
    return write_tiny_bundle(tmp_path / "bundle")


from sim_rig import rig  # noqa: E402,F401  (the simulated arm fixture, for every room)
