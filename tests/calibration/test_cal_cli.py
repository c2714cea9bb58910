"""`calibrate validate|show` and `bench calibration` through the real `edgerun` entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from calibration.bench import run_bench
from edge_runtime.calibration_artifacts import JOINTS, Device, build_document, write_document
from edge_runtime.cli.main import main


def _joints(root: Path, ids: tuple[int, ...] = (1, 2)) -> Path:
    data = {
        "offsets_applied": "host",
        "joints": [{"id": i, "zero_offset_rad": 0.0, "min_rad": -1.0, "max_rad": 1.0} for i in ids],
    }
    doc = build_document(JOINTS.name, 1, Device(motor_ids=ids), {"verified": True}, data)
    return write_document(root / JOINTS.filename, doc)


def test_cal_validate_ok_then_mismatch_then_tamper(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _joints(tmp_path)
    assert main(["calibrate", "validate", str(tmp_path), "--ids", "1,2"]) == 0
    assert "valid" in capsys.readouterr().out
    assert main(["calibrate", "validate", str(tmp_path), "--ids", "1,3"]) == 2
    captured = capsys.readouterr()
    assert "joints: made for motors [1, 2] but the robot has [1, 3]" in captured.out
    assert captured.err.startswith("edgerun: ")
    assert captured.err.count("\n") == 1
    path.write_text(path.read_text().replace('"max_rad": 1.0', '"max_rad": 1.5', 1))
    assert main(["calibrate", "validate", str(tmp_path)]) == 2
    assert "sha256" in capsys.readouterr().out
    assert main(["calibrate", "show", str(tmp_path)]) == 2


def test_cal_validate_require_all_and_show(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _joints(tmp_path)
    assert main(["calibrate", "validate", str(tmp_path), "--require", "all"]) == 2
    assert "camera_intrinsics" in capsys.readouterr().err
    assert main(["calibrate", "validate", str(tmp_path), "--require", "wrist"]) == 2
    assert "not a calibration kind" in capsys.readouterr().err
    assert main(["calibrate", "show", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "motors [1, 2]" in out
    assert "(verified)" in out
    assert main(["calibrate", "show", str(tmp_path / "missing")]) == 2


def test_cal_bench_reports_the_documented_json_shape(tmp_path: Path) -> None:
    report = run_bench(views=12, seed=1, images=False)
    assert set(report) >= {"camera", "handeye", "seconds"}
    assert report["camera"]["focal_error_pct"] < 0.5
    assert report["camera"]["rms_px"] < 0.3
    assert report["handeye"]["translation_mm"] < 2.0
    assert report["handeye"]["rotation_deg"] < 0.2
    assert report["handeye"]["sim_arm"]["translation_mm"] < 2.0
    json.dumps(report)  # serialisable as written by --json
