"""`edgerun log export`: end to end from the command line, and its one-sentence errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from field_logs import write_rgbd_log

from edge_runtime.cli.main import main

pytest.importorskip("mcap", reason="the export tools: pip install 'edge-runtime[data]'")
pytest.importorskip("pyarrow", reason="the export tools: pip install 'edge-runtime[data]'")


def test_export_prints_a_json_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = write_rgbd_log(tmp_path / "log", seconds=0.3)
    out = tmp_path / "run.mcap"
    assert main(["log", "export", str(log), "--format", "mcap", "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["files"][0]["messages"]["/joint_states"] == 30
    dataset = tmp_path / "dataset"
    argv = ["log", "export", str(log), "--format", "lerobot", "--out", str(dataset)]
    assert main([*argv, "--task", "pick", "--fps", "15", "--jobs", "1"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["fps"] == 15
    assert summary["tasks"] == ["pick"]
    assert (dataset / "meta" / "info.json").is_file()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--format", "lerobot", "--out", "EXISTING"], "already exists"),
        (["--format", "lerobot", "--out", "NEW", "--ray", "auto"], "--ray needs Ray"),
    ],
)
def test_export_errors_are_one_sentence(
    tmp_path: Path,
    extra: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # as on a machine without Ray
    log = write_rgbd_log(tmp_path / "log", seconds=0.1)
    (tmp_path / "EXISTING").mkdir()
    (tmp_path / "EXISTING" / "old").write_text("x")
    argv = [str(tmp_path / a) if a in ("EXISTING", "NEW") else a for a in extra]
    assert main(["log", "export", str(log), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1
