"""The monitor calibration cache gives back what it stored (it never did: every export
recalibrated for ~4 minutes, because the stored table was parsed as a whole section)."""

from __future__ import annotations

from pathlib import Path

from edge_runtime.bundle.world_model import MonitorCalibration, MonitorSpec, Thresholds
from export.world_model import calibration_cache


def test_a_stored_monitor_section_loads_back_for_its_key_only(tmp_path: Path) -> None:
    spec = MonitorSpec(
        latent_scale=(0.1, 0.2),
        debounce_steps=1,
        warn=Thresholds(2.0, 0.03),
        stop=Thresholds(3.0, 0.05),
        alpha_warn=0.05,
        alpha_stop=0.005,
        calibration=MonitorCalibration(600, 3.0, 7, "split conformal"),
        relight=True,
    )
    path = tmp_path / "monitor.json"
    calibration_cache.store("key-1", spec, path)
    assert calibration_cache.load("key-1", path) == spec
    assert calibration_cache.load("key-2", path) is None
