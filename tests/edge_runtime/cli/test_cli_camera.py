"""`edgerun camera check|synth` and `bench camera`: tables, the JSON shape, one-sentence errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from isolation import run_in_child

from edge_runtime.cli.main import main

pytest.importorskip("pyrealsense2", reason="pyrealsense2 (and libusb-1.0-0) not installed")
pytestmark = pytest.mark.isolated  # pyrealsense2 can abort the interpreter (isolation.py)


def _synth(out: Path, *args: str) -> Path:
    assert main(["camera", "synth", str(out), *args]) == 0
    return out


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rscli") / "synth.db3"
    return run_in_child(_synth, out, "--frames", "12", "--width", "96", "--height", "64")


def test_rs_check_playback_writes_the_documented_json(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "check.json"
    assert main(["camera", "check", "--playback", str(recording), "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["paired"] >= 12 - 3  # librealsense may drop the first frames at start
    assert result["frames"] >= result["paired"]
    assert result["fps"] > 0
    assert {"fx", "fy", "ppx", "ppy", "width", "height"} <= set(result["intrinsics"])
    assert (result["intrinsics"]["width"], result["intrinsics"]["height"]) == (96, 64)
    assert result["depth_scale"] == pytest.approx(0.001)
    assert result["drops"] == 0


def test_rs_check_of_a_depth_only_recording_reads_it_and_refuses_in_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from edge_runtime.sensors.realsense_synth import write_synthetic_recording

    path = write_synthetic_recording(tmp_path / "depth.db3", 4, 64, 48, streams=("depth",))
    out = tmp_path / "check.json"
    assert main(["camera", "check", "--playback", str(path), "--json", str(out)]) == 2
    captured = capsys.readouterr()
    assert "depth stream" in captured.out  # what is there is shown
    assert captured.err.strip().splitlines() == [
        f"edgerun: {path} has no color stream (it has depth); the runtime needs RGB-D: "
        "record depth and color"
    ]
    result = json.loads(out.read_text())
    assert result["streams"]["depth"]["width"] == 64
    assert "color" not in result["streams"]


def test_rs_bench_camera_reports_a_median(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    args = ["bench", "camera", "--playback", str(recording), "--runs", "2", "--json", str(out)]
    assert main(args) == 0
    result = json.loads(out.read_text())
    assert len(result["runs"]) == 2
    assert result["fps_median"] > 0
    assert "machine" in result


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["camera", "check", "--playback", "nope.db3"], "nope.db3 does not exist"),
        (["bench", "camera", "--playback", "nope.bag"], "nope.bag does not exist"),
        (["camera", "synth", "out.mp4", "--frames", "1"], "records .db3 files; name it *.db3"),
    ],
)
def test_rs_camera_errors_are_one_sentence(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_rs_no_camera_is_one_sentence_without_traceback() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "edge_runtime.cli.main", "camera", "check", "--serial", "123456"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "edgerun: no RealSense camera found; plug one into a USB 3 port, or set "
        '[camera] type = "playback" to run from a recording'
    )
