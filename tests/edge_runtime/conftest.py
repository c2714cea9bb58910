"""Fixtures shared by the runtime tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from isolation import call_isolated
from runtime_bundles import write_tiny_bundle


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Tests marked `isolated` (pyrealsense2 can abort the interpreter) run in a child."""
    return call_isolated(pyfuncitem)


@pytest.fixture
def tiny_bundle(tmp_path: Path) -> Path:
    return write_tiny_bundle(tmp_path / "bundle")


from sim_rig import rig  # noqa: E402,F401  (the simulated arm fixture, for every room)
