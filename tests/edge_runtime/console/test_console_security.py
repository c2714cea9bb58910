"""The console's guards: the token on a network, same-origin writes, files only by name."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from console_server import error_of, request, serving, wait_running

from edge_runtime.console.settings import TOKEN_FILE, console_settings, parse_bind
from edge_runtime.errors import ConfigError
from edge_runtime.field.latch import LatchedStop, StopLatch
from edge_runtime.field.live import LiveStatus

ACK = {"by": "ana", "why": "camera cable reseated"}


def _latch(state_dir: Path) -> StopLatch:
    latch = StopLatch(state_dir)
    latch.latch(LatchedStop(reason="safety stop: stale_observation", robot="cell-3"))
    return latch


def test_console_a_network_bind_makes_a_token_stored_owner_only() -> None:
    settings = console_settings("0.0.0.0:0")
    assert settings.token
    path = settings.state_dir / TOKEN_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == settings.token
    assert settings.token in settings.url
    assert console_settings("127.0.0.1:0").token is None
    assert console_settings("localhost:0").token is None


def test_console_bad_bind_is_one_sentence() -> None:
    assert parse_bind("[::1]:8470") == ("::1", 8470)
    with pytest.raises(ConfigError, match=r"not ADDR:PORT; use e\.g\. 127\.0\.0\.1:8470"):
        parse_bind("8470")


def test_console_on_a_network_refuses_changes_without_the_token() -> None:
    settings = console_settings("0.0.0.0:0")
    latch = _latch(settings.state_dir)
    with serving(settings) as url:
        assert request(url + "/stop")[0] == 200  # reading needs no token
        status, body = request(url + "/stop/ack", ACK)
        assert status == 403
        assert "need the token printed" in error_of(body)
        assert request(url + "/stop/ack", {**ACK, "token": "guessed"})[0] == 403
        assert request(url + "/bundles/rollback", {}, {"X-Console-Token": "guessed"})[0] == 403
        assert latch.read() is not None  # nothing changed
        status, _ = request(url + "/stop/ack", {**ACK, "token": settings.token or ""})
    assert status == 303
    assert latch.read() is None
    assert latch.acknowledgements()[-1].by == "ana"


@pytest.mark.parametrize("origin", ["http://evil.example", "null"])
def test_console_refuses_a_write_from_another_origin(origin: str) -> None:
    settings = console_settings("127.0.0.1:0")
    latch = _latch(settings.state_dir)
    with serving(settings) as url:
        status, body = request(url + "/stop/ack", ACK, {"Origin": origin})
    assert status == 403
    assert "may not change this robot" in error_of(body)
    assert latch.read() is not None


@pytest.mark.parametrize(
    "path",
    [
        "/logs/..%2F..%2F..%2Fetc%2Fpasswd",
        "/logs/%2Fetc%2Fpasswd",
        "/logs/outside",  # a symlink out of the logs directory
        "/logs/..%2Fsafety-stop.json/timeline.png",
        "/calibrate/images/..%2F..%2F..%2Fetc",
        "/calibrate/images/set/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "/calibrate/results/..%2Fimages/camera_errors.png",
        "/camera/..%2F..%2Fsafety-stop.json.jpg",
    ],
)
def test_console_opens_no_file_outside_the_data_directories(path: str, tmp_path: Path) -> None:
    settings = console_settings("127.0.0.1:0", data_dir=str(tmp_path / "data"))
    _latch(settings.state_dir)
    (settings.logs_dir).mkdir(parents=True)
    (settings.logs_dir / "outside").symlink_to("/etc")
    (settings.calibration_dir / "images" / "set").mkdir(parents=True)
    with serving(settings) as url:
        status, body = request(url + path)
    assert status == 404, body
    assert "root:" not in body
    assert "stale_observation" not in body


def test_console_refuses_a_rollback_while_the_robot_runs() -> None:
    settings = console_settings("127.0.0.1:0")
    with LiveStatus(settings.state_dir, "cell-3", "bundle-a") as live, serving(settings) as url:
        live.on_start(["shoulder"], 0.01)
        wait_running(url)
        status, body = request(url + "/bundles/rollback", {})
    assert status == 409
    assert "refused while it runs" in body
