"""Fixtures for every test package."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _small_task_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    """The exporter's task-level gate runs 200 paired episodes per variant by default, sized for
    the reference task; tests that export a bundle for the simulated arm run 2, in-process."""
    monkeypatch.setattr("export.task_gate.DEFAULT_EPISODES", 2)
    monkeypatch.setattr("export.task_gate.DEFAULT_WORKERS", 1)
