"""Bad input to `edgerun run`: one clear sentence, exit code 2, no traceback, no motor enabled."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_runtime.cli.main import main

CONFIG = """
[robot]
period_s = 0.01

[[joints]]
name = "a"
id = 1
min_rad = -1.0
max_rad = 1.0

[camera]
type = "playback"
playback = "scene.db3"

[motors]
type = "dynamixel"
port = "{port}"

[model]
bundle = "{bundle}"
backend = "{backend}"
development_mode = true
"""


def run(tmp_path: Path, capsys: pytest.CaptureFixture[str], **fields: str) -> tuple[int, str]:
    values = {"port": "/dev/ttyUSB0", "bundle": "bundle", "backend": "onnxruntime", **fields}
    config = tmp_path / "robot.toml"
    config.write_text(CONFIG.format(**values))
    code = main(["run", "--config", str(config), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def test_missing_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--config", str(tmp_path / "robot.toml")])
    assert code == 2
    assert "robot.toml does not exist" in capsys.readouterr().err


def test_malformed_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "robot.toml").write_text("[robot\n")
    assert main(["run", "--config", str(tmp_path / "robot.toml")]) == 2
    assert "is not valid TOML" in capsys.readouterr().err


def test_missing_bundle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(tmp_path, capsys, bundle="nowhere")
    assert code == 2
    assert "nowhere does not exist" in err


def test_unknown_backend(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(tmp_path, capsys, backend="cuda")
    assert code == 2
    assert "backend = 'cuda' is invalid: must be one of" in err


def test_absent_port(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from runtime_bundles import write_tiny_bundle

    write_tiny_bundle(tmp_path / "bundle", ("a",))
    (tmp_path / "scene.db3").touch()  # the camera is opened only once the motors are
    code, err = run(tmp_path, capsys, port=str(tmp_path / "ttyNOPE"))
    assert code == 2
    assert "ttyNOPE" in err


def test_bundle_for_other_joints(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from runtime_bundles import write_tiny_bundle

    write_tiny_bundle(tmp_path / "bundle", ("x",))
    code, err = run(tmp_path, capsys)
    assert code == 2
    assert "the bundle drives joints ['x']" in err


def test_refuses_to_arm_without_joint_calibration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from runtime_bundles import write_tiny_bundle

    write_tiny_bundle(tmp_path / "bundle", ("a",))
    (tmp_path / "cal").mkdir()
    config = tmp_path / "robot.toml"
    text = CONFIG.format(port="/dev/ttyUSB0", bundle="bundle", backend="onnxruntime")
    config.write_text(text + '\n[calibration]\ndir = "cal"\n')
    assert main(["run", "--config", str(config), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "cannot be armed" in err
    assert "edgerun calibrate joints" in err
