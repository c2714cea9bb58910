"""The Logs pages: `log info`'s summary and timeline for a recorded log, export by name only."""

from __future__ import annotations

from pathlib import Path

from console_server import request, serving
from field_logs import write_rgbd_log

from edge_runtime.console.settings import console_settings


def test_console_lists_a_log_with_its_summary_and_timeline(tmp_path: Path) -> None:
    settings = console_settings("127.0.0.1:0", data_dir=str(tmp_path / "data"))
    write_rgbd_log(settings.logs_dir / "pick-1", seconds=0.5)
    with serving(settings) as url:
        listing = request(url + "/logs")
        summary = request(url + "/logs/pick-1")
        timeline = request(url + "/logs/pick-1/timeline.png")
        unknown = request(url + "/logs/export", {"format": "lerobot"})
        wrong_format = request(url + "/logs/pick-1/export", {"format": "csv"})
    assert listing[0] == 200
    assert 'href="/logs/pick-1"' in listing[1]
    assert summary[0] == 200
    assert "lateness µs p50/p99/max" in summary[1]
    assert "pick (ref)" in summary[1]  # the bundle identity the log carries
    assert timeline[0] == 200
    assert timeline[1].startswith("\ufffdPNG")
    assert unknown[0] in (404, 405)
    assert wrong_format[0] == 400
    assert "unknown export format &#39;csv&#39;" in wrong_format[1]
