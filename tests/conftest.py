"""Fixtures for every test package."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _robot_state_in_tmp(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`run` and `demo` latch safety stops and publish the console's live status in the state
    directory: never the machine's /var/lib (the export and calibration tests run demos too),
    and no test talks to a systemd that happens to supervise the test runner."""
    monkeypatch.setenv("EDGE_RUNTIME_STATE_DIR", str(tmp_path_factory.mktemp("state")))
    # The live status goes to a RAM run directory (/run/edge-runtime), not the state directory.
    monkeypatch.setenv("EDGE_RUNTIME_RUNTIME_DIR", str(tmp_path_factory.mktemp("run")))
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.delenv("RUNTIME_DIRECTORY", raising=False)


@pytest.fixture(autouse=True)
def _small_task_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    """The exporter's task-level gate runs 200 paired episodes per variant by default, sized for
    the reference task; tests that export a bundle for the simulated arm run 2, in-process."""
    monkeypatch.setattr("export.task_gate.DEFAULT_EPISODES", 2)
    monkeypatch.setattr("export.task_gate.DEFAULT_WORKERS", 1)
