"""`edgerun run` in a subprocess, SIGTERM/SIGINT mid-run: torque must be off on every servo.

The simulated servo chain lives in this test process on a pty; the runtime in the subprocess
reaches it through the real Dynamixel driver, and plays a RealSense recording made here with
pyrealsense2's software device. What we check is what the servos themselves report.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from isolation import run_in_child

from firmware_bridge.sim.servo_device import SimServoChain

IDS = [1, 2, 3]


def _config(tmp_path: Path, bundle: Path, recording: Path, link: Path) -> Path:
    text = f"""
[robot]
name = "signal-test"
period_s = 0.01

[[joints]]
name = "a"
id = 1
min_rad = -1.0
max_rad = 1.0

[[joints]]
name = "b"
id = 2
min_rad = -1.0
max_rad = 1.0

[[joints]]
name = "c"
id = 3
min_rad = -1.0
max_rad = 1.0

[camera]
type = "playback"
playback = "{recording}"
max_age_s = 0.5

[motors]
type = "dynamixel"
port = "{link}"

[model]
bundle = "{bundle}"
backend = "onnxruntime"
development_mode = true

[safety]
stale_observation_periods = 50
hold_timeout_s = 30.0
"""
    path = tmp_path / "robot.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from edge_runtime.sensors.realsense_synth import write_synthetic_recording

    path = tmp_path_factory.mktemp("rec") / "scene.db3"
    # In a child: pyrealsense2 can abort the interpreter (tests/edge_runtime/isolation.py).
    return run_in_child(write_synthetic_recording, path, frames=60, width=64, height=48, fps=30)


HANG_S = 240.0  # only catches a hang: every wait below ends on progress, not on wall time


def _start_run(config: Path, out: Path, log: Path) -> subprocess.Popen[bytes]:
    """`edgerun run` in a subprocess; its output goes to a file (a pipe nobody reads while
    the test waits would fill up and block the runtime)."""
    cmd = [sys.executable, "-m", "edge_runtime.cli.main", "run", "--config", str(config)]
    cmd += ["--out", str(out)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(log, "wb") as sink:
        return subprocess.Popen(cmd, env=env, stdout=sink, stderr=subprocess.STDOUT)


def _wait_for_torque(chain: SimServoChain, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Until every servo has torque on. A loaded machine only makes this take longer; a
    runtime that exits first fails the test with its output."""
    deadline = time.monotonic() + HANG_S
    while not all(chain.servo(i).torque_on for i in IDS):
        if proc.poll() is not None:
            text = log.read_text(errors="replace")
            raise AssertionError(
                f"the runtime exited ({proc.returncode}) before torque on:\n{text}"
            )
        assert time.monotonic() < deadline, f"the runtime never enabled torque in {HANG_S:.0f} s"
        time.sleep(0.02)


def _finish(proc: subprocess.Popen[bytes], log: Path) -> str:
    try:
        proc.wait(timeout=HANG_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return log.read_text(errors="replace")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_mid_run_turns_torque_off(
    tmp_path: Path, tiny_bundle: Path, recording: Path, signum: int
) -> None:
    link = tmp_path / "servos"
    with SimServoChain(IDS, link=link) as chain:
        config = _config(tmp_path, tiny_bundle, recording, link)
        log = tmp_path / "run.log"
        proc = _start_run(config, tmp_path / "out", log)
        try:
            _wait_for_torque(chain, proc, log)
            ticks = chain.stats.packets
            while chain.stats.packets < ticks + 20 and proc.poll() is None:
                time.sleep(0.01)  # some closed-loop exchanges, however slow the machine
            proc.send_signal(signum)
        finally:
            text = _finish(proc, log)
        assert proc.returncode == 0, text
        assert f"signal {signal.Signals(signum).name}" in text
        assert not any(chain.servo(i).torque_on for i in IDS)
        assert (tmp_path / "out" / "loop-timing.png").is_file()


def test_bad_config_enables_no_motor(tmp_path: Path, recording: Path) -> None:
    link = tmp_path / "servos"
    with SimServoChain(IDS, link=link) as chain:
        config = _config(tmp_path, tmp_path / "missing-bundle", recording, link)
        cmd = [sys.executable, "-m", "edge_runtime.cli.main", "run", "--config", str(config)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2
        assert "missing-bundle does not exist" in proc.stderr
        assert "Traceback" not in proc.stderr
        assert chain.stats.packets == 0  # nothing was even sent to the servos


def _control_child(parent_pid: int) -> int:
    """The control process: the runtime's child running multiprocessing's spawn_main."""
    for pid in Path("/proc").iterdir():
        if not pid.name.isdigit():
            continue
        try:
            stat = (pid / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (pid / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == parent_pid and b"spawn_main" in cmdline:
            return int(pid.name)
    raise AssertionError("no control process found")


def test_killed_control_process_still_ends_with_torque_off(
    tmp_path: Path, tiny_bundle: Path, recording: Path
) -> None:
    link = tmp_path / "servos"
    with SimServoChain(IDS, link=link) as chain:
        config = _config(tmp_path, tiny_bundle, recording, link)
        log = tmp_path / "run.log"
        proc = _start_run(config, tmp_path / "out", log)
        try:
            _wait_for_torque(chain, proc, log)
            os.kill(_control_child(proc.pid), signal.SIGKILL)
        finally:
            text = _finish(proc, log)
        assert proc.returncode == 1, text
        assert "the control process died" in text
        assert not any(chain.servo(i).torque_on for i in IDS)
