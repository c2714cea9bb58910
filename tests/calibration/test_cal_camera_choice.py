"""`calibrate ... --camera NAME`: a session looks through one named camera of `[[cameras]]`."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from calibration.session import Robot, artifact_serial, only_camera, open_robot
from edge_runtime.cli.main import main
from edge_runtime.config import load_config
from edge_runtime.sim.render import camera_intrinsics
from edge_runtime.sim.world import SimWorld

TWO_CAMERA = str(resources.files("edge_runtime.sim") / "robots" / "two_camera.toml")


def test_cal_camera_choice_opens_the_named_camera_alone() -> None:
    config = load_config(TWO_CAMERA)
    wrist = only_camera(config, "wrist")
    assert [c.name for c in wrist.camera_configs] == ["wrist"]
    assert wrist.camera_sync.primary == "wrist"
    assert only_camera(config, "") is config  # no --camera: the primary, as before
    # The simulator renders the wrist camera from the hand (arm.xml's wrist_cam, fovy 70),
    # not the workspace camera the primary would show.
    with open_robot(TWO_CAMERA, motors=False, camera_name="wrist") as robot:
        assert robot.camera is not None
        frame, _ = robot.camera.wait_frame(0, timeout_s=60.0)
    assert frame is not None
    assert frame.color.shape == (96, 128, 3)
    world = SimWorld(seed=0)
    assert frame.intrinsics.fx == pytest.approx(camera_intrinsics(world, 128, 96, "wrist_cam").fx)
    assert frame.intrinsics.fx != pytest.approx(camera_intrinsics(world, 128, 96).fx)


def test_cal_camera_choice_records_the_chosen_cameras_serial(tmp_path: Path) -> None:
    """Artifacts go per camera serial: without --serial, the chosen camera's configured one."""
    text = Path(TWO_CAMERA).read_text()
    text = text.replace('name = "scene"', 'name = "scene"\nserial = "111"')
    text = text.replace('name = "wrist"\n', 'name = "wrist"\nserial = "222"\n', 1)
    config_path = tmp_path / "robot.toml"
    config_path.write_text(text)
    robot = Robot(only_camera(load_config(config_path), "wrist"), camera=None, bus=None)
    assert artifact_serial("", robot) == "222"
    assert artifact_serial("999", robot) == "999"  # --serial wins
    assert artifact_serial("", None) == ""  # recorded images, no robot: unknown


def test_cal_camera_choice_refuses_an_unknown_name(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    for command in ("camera", "depth", "int8"):
        args = ["calibrate", command, "--config", TWO_CAMERA, "--camera", "gripper"]
        assert main([*args, "--out", str(tmp_path), "--non-interactive"]) == 2
        err = capsys.readouterr().err
        assert "has no camera 'gripper'; its cameras are scene, wrist" in err
        assert err.count("\n") == 1


def test_cal_session_opens_both_buses_of_the_simulated_robot() -> None:
    """A calibration session on a robot with `[[buses]]` reaches every simulated chain on its
    own pty (it opened the config's empty ports before, so `calibrate joints` could not run)."""
    with open_robot(TWO_CAMERA, camera=False) as robot:
        assert robot.bus is not None
        state = robot.bus.read_state()
    assert state.ok
    assert state.positions_rad.shape == (4,)
