"""`edgerun motors ...`, `sim servos` and `bench motors` against simulated servos on a pty."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from edge_runtime.cli.main import main
from firmware_bridge.sim.servo_device import SimServoChain


@pytest.fixture
def chain() -> Iterator[SimServoChain]:
    with SimServoChain([1, 2, 3]) as device:
        yield device


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_scan_read_write(chain: SimServoChain, capsys) -> None:
    code, out, _ = run(capsys, "motors", "scan", "--port", chain.port)
    assert code == 0
    assert "id   2  model  1020 XM430-W350         firmware  46  baud 1000000" in out
    code, out, _ = run(capsys, "motors", "scan", "--port", chain.port, "--ids", "2-5")
    assert "2 servo(s) found" in out
    code, out, _ = run(
        capsys, "motors", "read", "--port", chain.port, "--id", "3", "present-position"
    )
    assert code == 0
    assert "present_position = 2048  (0 rad)" in out
    args = ("motors", "write", "--port", chain.port, "--id", "3")
    assert run(capsys, *args, "goal_position", "0.5", "--si")[0] == 0
    assert chain.servo(3).table[116:120] == (2048 + 326).to_bytes(4, "little")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("read", "--id", "1", "present_postion"), "did you mean present_position"),
        (("write", "--id", "1", "goal_position", "0.5"), "pass --si"),
        (("write", "--id", "1", "id", "300"), "id takes 0..255"),
        (("read", "--id", "9", "id"), "servo 9 did not answer"),
        (("read", "--baud", "12345", "--id", "1", "id"), "do not run at '12345' baud"),
    ],
)
def test_bad_input_is_one_sentence(chain: SimServoChain, capsys, argv, message) -> None:
    command, *rest = argv
    code, _, err = run(capsys, "motors", command, "--port", chain.port, *rest)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_missing_port_and_wrong_baud(chain: SimServoChain, capsys, tmp_path) -> None:
    code, _, err = run(capsys, "motors", "scan", "--port", str(tmp_path / "ttyUSB7"))
    assert code == 2
    assert "does not exist" in err
    code, out, _ = run(capsys, "motors", "scan", "--port", chain.port, "--baud", "57600")
    assert code == 1
    assert "try --baud all" in out


def test_eeprom_write_with_torque_on(chain: SimServoChain, capsys) -> None:
    args = ("motors", "write", "--port", chain.port, "--id", "1")
    assert run(capsys, *args, "torque_enable", "1")[0] == 0
    code, _, err = run(capsys, *args, "operating_mode", "1")
    assert code == 2
    assert "operating_mode is in EEPROM: turn torque off first" in err
    code, out, _ = run(capsys, "motors", "reboot", "--port", chain.port, "--id", "1")
    assert code == 0
    assert "rebooted" in out
    assert not chain.servo(1).torque_on


def test_set_id_and_set_baud(chain: SimServoChain, capsys) -> None:
    port = ("--port", chain.port)
    assert run(capsys, "motors", "set-id", *port, "--id", "3", "7")[0] == 0
    assert sorted(s.id for s in chain.servos) == [1, 2, 7]
    code, _, err = run(capsys, "motors", "set-id", *port, "--id", "7", "1")
    assert code == 2
    assert "id 1 is already taken" in err
    code, out, _ = run(capsys, "motors", "set-baud", *port, "--id", "2", "57600")
    assert code == 0
    assert "now talks at 57600 baud" in out
    code, out, _ = run(capsys, "motors", "scan", *port, "--baud", "57600")
    assert "id   2  model  1020 XM430-W350         firmware  46  baud 57600" in out
    assert "1 servo(s) found" in out


def test_monitor_counts_frames(chain: SimServoChain, capsys) -> None:
    code, out, _ = run(capsys, "motors", "monitor", "--port", chain.port, "--count", "2")
    assert code == 0
    assert "position rad" in out
    assert not any(s.torque_on for s in chain.servos)


def test_sim_servos_runs_until_sigterm(tmp_path) -> None:
    link = tmp_path / "ttyDXL"
    cmd = [sys.executable, "-m", "edge_runtime.cli.main", "sim", "servos", "--ids", "1-3"]
    proc = subprocess.Popen([*cmd, "--link", str(link)], stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not link.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        from firmware_bridge.dynamixel import DynamixelBus

        with DynamixelBus(str(link), [1, 2, 3], latency_s=0.05) as bus:
            assert bus.read_state().ok
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert "stopped:" in out
    assert not link.exists()


@pytest.mark.slow
def test_bench_motors_writes_json(tmp_path, capsys) -> None:
    out_json = tmp_path / "motors.json"
    code = main(["bench", "motors", "--servos", "2", "--cycles", "100", "--json", str(out_json)])
    assert code == 0
    result = json.loads(out_json.read_text())
    assert result["servos"] == 2
    assert set(result["cpu_us_per_cycle"]) == {"edgerun", "dynamixel_sdk"}
    assert set(result["cycle_us"]) >= {"p50", "p99"}
    assert result["wire_bytes"] == 24 + 16 + 36
    assert set(result["wire_us"]) == {"1000000", "4000000"}
