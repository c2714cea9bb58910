"""Robot config validation: every error names the key, the bad value and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_runtime.config import load_config
from edge_runtime.engines import BACKENDS, DEFAULT_ENGINE_CACHE
from edge_runtime.errors import ConfigError
from edge_runtime.fields import load_toml

GOOD = """
[robot]
name = "cell-3"
period_s = 0.01

[[joints]]
name = "base"
id = 1
min_rad = -2.0
max_rad = 2.0

[[joints]]
name = "shoulder"
id = 2
min_rad = -1.5
max_rad = 1.5
max_velocity_rad_s = 2.0

[camera]
type = "realsense"
width = 640
height = 480

[motors]
type = "dynamixel"
port = "/dev/ttyUSB0"

[model]
bundle = "bundles/pick.tar"
backend = "onnxruntime"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "robot.toml"
    path.write_text(text)
    return path


def test_good_config_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert config.period_s == 0.01
    assert config.joint_names == ["base", "shoulder"]
    assert config.motor_ids == [1, 2]
    assert config.joints[0].max_velocity_rad_s == 1.0
    assert config.model.backend == "onnxruntime"
    assert config.resolve(config.model.bundle) == tmp_path / "bundles/pick.tar"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "period_s = 0.01",
            "period_s = -0.01",
            r"\[robot\] period_s = -0.01 is invalid: must be > 0",
        ),
        ("period_s = 0.01", 'period_s = "fast"', r"period_s = 'fast' is invalid: must be a finite"),
        (
            'backend = "onnxruntime"',
            'backend = "cuda"',
            r"backend = 'cuda' is invalid: must be one of",
        ),
        ("id = 2", "id = 1", r"joint ids must be unique, \[1\] appear twice"),
        ("id = 2", "id = 300", r"joints\[1\] id = 300 is invalid: must be <= 252"),
        (
            "min_rad = -1.5",
            "min_rad = 1.9",
            r"joints\[1\] \(shoulder\) has min_rad = 1.9 >= max_rad",
        ),
        ('type = "realsense"', 'type = "webcam"', r"\[camera\] type = 'webcam' is invalid"),
        ("width = 640", "widht = 640", r"unknown key 'widht' in \[camera\]"),
        ('port = "/dev/ttyUSB0"', 'port = ""', r"\[motors\] port is empty"),
        ("[model]", "[modle]", r"unknown section \[modle\]"),
    ],
)
def test_bad_values_name_key_value_and_fix(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in GOOD
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, GOOD.replace(old, new, 1)))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist; pass --config"):
        load_config(tmp_path / "nope.toml")


def test_malformed_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_config(write(tmp_path, "[robot\nperiod_s = 1"))


def test_load_toml_names_the_file_and_the_fix(tmp_path: Path) -> None:
    class SpecError(Exception):
        pass

    with pytest.raises(SpecError, match=r"^bundle spec \S+ does not exist; pass --spec$"):
        load_toml(tmp_path / "nope.toml", SpecError, "bundle spec", "pass --spec")
    (tmp_path / "bad.toml").write_bytes(b"name = '\xff'\n")
    with pytest.raises(SpecError, match=r"bad\.toml is not valid TOML .*; fix the syntax there"):
        load_toml(tmp_path / "bad.toml", SpecError, "bundle spec", "pass --spec")
    (tmp_path / "ok.toml").write_text("[a]\nb = 1\n")
    assert load_toml(tmp_path / "ok.toml", SpecError, "bundle spec", "") == {"a": {"b": 1}}


def test_model_defaults_come_from_the_engines_package(tmp_path: Path) -> None:
    model = load_config(write(tmp_path, GOOD)).model
    assert model.engine_cache == DEFAULT_ENGINE_CACHE
    for backend in BACKENDS:
        text = GOOD.replace('backend = "onnxruntime"', f'backend = "{backend}"', 1)
        assert load_config(write(tmp_path, text)).model.backend == backend


def test_no_joints(tmp_path: Path) -> None:
    text = GOOD.split("[[joints]]")[0] + '[motors]\nport = "/dev/ttyUSB0"\n'
    with pytest.raises(ConfigError, match=r"no \[\[joints\]\] entries"):
        load_config(write(tmp_path, text))


TWO_BUSES = (
    GOOD.replace('name = "base"\n', 'name = "base"\nbus = "arm"\n').replace(
        'name = "shoulder"\n', 'name = "shoulder"\nbus = "gripper"\n'
    )
    + """
[[buses]]
name = "arm"
port = "/dev/ttyUSB0"

[[buses]]
name = "gripper"
kind = "mcu"
port = "/dev/ttyACM0"
baud = 2000000
"""
)


def test_buses_by_name(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, TWO_BUSES))
    assert [(b.name, b.kind, b.port, b.baud) for b in config.buses] == [
        ("arm", "dynamixel", "/dev/ttyUSB0", 1_000_000),
        ("gripper", "mcu", "/dev/ttyACM0", 2_000_000),
    ]
    assert [j.bus for j in config.joints] == ["arm", "gripper"]
    assert load_config(write(tmp_path, GOOD)).buses == ()  # one [motors] bus: unchanged


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (('bus = "gripper"', 'bus = "hand"'), 'names bus "hand", which is not a \\[\\[buses'),
        (('bus = "gripper"\n', ""), r"joints\[1\] \(shoulder\) has no bus; add bus = \"arm\""),
        (('name = "gripper"', 'name = "arm"'), r"bus names must be unique, \['arm'\]"),
        (('port = "/dev/ttyACM0"\n', ""), r"buses\[1\] \(gripper\) has no port"),
    ],
)
def test_bad_buses_name_the_fix(tmp_path: Path, edit: tuple[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, TWO_BUSES.replace(*edit)))
