"""`edgerun sim mcu`: a real subprocess on a pty driven by McuBus, stopped with SIGTERM; bad
arguments give one sentence and exit 2."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from edge_runtime.cli.main import main
from firmware_bridge.mcu.bus import McuBus


def test_mcu_cli_sim_serves_mcubus_and_stops_on_sigterm(tmp_path: Path) -> None:
    link = tmp_path / "mcu"
    cmd = [sys.executable, "-m", "edge_runtime.cli.main", "sim", "mcu", "--link", str(link)]
    proc = subprocess.Popen(
        [*cmd, "--motors", "2", "--period-ms", "50"], stdout=subprocess.PIPE, text=True
    )
    try:
        end = time.monotonic() + 30
        while not link.exists():
            assert proc.poll() is None, "the simulator exited early"
            assert time.monotonic() < end, "the link never appeared"
            time.sleep(0.02)
        with McuBus(str(link), [1, 2], period_s=0.05, reply_timeout_s=0.5) as bus:
            bus.enable()
            bus.write_goal(np.array([0.1, 0.2]))
            assert bus.read_state().ok
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert "2 motors" in out
    assert "1 commands applied" in out
    assert not link.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--motors", "0"], "--motors 0 is out of range"),
        (["--period-ms", "0.1"], "--period-ms 0.1 is out of range"),
        (["--watchdog-periods", "9"], "--watchdog-periods 9 is out of range"),
        (["--drop-rate", "2"], "--drop-rate 2.0 is not in [0, 1]"),
    ],
)
def test_mcu_cli_bad_arguments_are_one_sentence(tmp_path, capsys, extra, message) -> None:
    assert main(["sim", "mcu", "--link", str(tmp_path / "mcu"), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_mcu_cli_refuses_to_replace_a_file_or_use_a_missing_directory(tmp_path, capsys) -> None:
    precious = tmp_path / "notes.txt"
    precious.write_text("keep me")
    assert main(["sim", "mcu", "--link", str(precious)]) == 2
    assert precious.read_text() == "keep me"
    assert main(["sim", "mcu", "--link", str(tmp_path / "no" / "mcu")]) == 2
    err = capsys.readouterr().err
    assert "is not a symlink" in err
    assert "does not exist" in err


def test_mcu_cli_bench_writes_json(tmp_path: Path, capsys) -> None:
    out = tmp_path / "mcu.json"
    args = ["bench", "mcu", "--motors", "2", "--cycles", "20", "--period-ms", "50"]
    assert main([*args, "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["motors"] == 2
    # Every cycle sends, unless the simulated MCU (answering from this busy test process)
    # latched a watchdog fault under load: the bench then counts the refused writes.
    assert 0 < result["commands"]["sent"] <= 20
    assert result["wire_bytes"]["host_to_mcu"] > 0
    assert result["codec_us_per_cycle"] > 0
    assert "read_state" in capsys.readouterr().out


def test_mcu_cli_bench_bad_cycles_is_one_sentence(capsys) -> None:
    assert main(["bench", "mcu", "--cycles", "1"]) == 2
    assert "--cycles 1 is out of range" in capsys.readouterr().err
