"""Hardware sync through pyrealsense2: devices with the inter-camera sync option take master
and slave modes; one without it (a playback device) is matched in software only."""

from __future__ import annotations

from pathlib import Path

import pytest
from isolation import run_in_child

from edge_runtime.sensors.realsense_device import import_rs
from edge_runtime.sensors.realsense_sync import (
    SYNC_DEFAULT,
    SYNC_MASTER,
    SYNC_SLAVE,
    apply_sync_mode,
    sync_modes,
)
from edge_runtime.sensors.realsense_synth import write_synthetic_recording

pytest.importorskip("pyrealsense2", reason="pyrealsense2 (and libusb-1.0-0) not installed")
pytestmark = pytest.mark.isolated


def test_a_device_without_the_sync_option_falls_back_to_software(tmp_path: Path) -> None:
    path = run_in_child(write_synthetic_recording, tmp_path / "one.db3", 3, 32, 24, 30)
    rs = import_rs()
    device = rs.context().load_device(str(path))
    try:
        option = rs.option.inter_cam_sync_mode
        assert not any(s.supports(option) for s in device.query_sensors())
        assert apply_sync_mode(rs, device, SYNC_MASTER) == "software"
        assert apply_sync_mode(rs, device, SYNC_DEFAULT) == "software"
    finally:
        device.as_playback().pause()


def test_a_device_with_the_sync_option_takes_master_and_slave() -> None:
    """A librealsense software device whose depth sensor has the option, as a D4xx's has."""
    rs = import_rs()
    master, slave = rs.software_device(), rs.software_device()
    for device in (master, slave):
        sensor = device.add_sensor("Stereo Module")
        sensor.add_option(rs.option.inter_cam_sync_mode, rs.option_range(0, 260, 1, 0), True)
    modes = sync_modes(["scene", "wrist"], hardware=True)
    assert apply_sync_mode(rs, master, modes["scene"]) == "hardware"
    assert apply_sync_mode(rs, slave, modes["wrist"]) == "hardware"
    read = [d.query_sensors()[0].get_option(rs.option.inter_cam_sync_mode) for d in (master, slave)]
    assert read == [SYNC_MASTER, SYNC_SLAVE]
    assert apply_sync_mode(rs, slave, SYNC_DEFAULT) == "software"  # free-running again
