"""Fixtures shared by the runtime tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from runtime_bundles import write_tiny_bundle


@pytest.fixture
def tiny_bundle(tmp_path: Path) -> Path:
    return write_tiny_bundle(tmp_path / "bundle")
