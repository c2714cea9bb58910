"""Nothing outlives a killed runtime: `edgerun demo` SIGKILLed mid-run, alone or with its group.

The demo's processes (runtime, control process, simulated arm, recorder writer, resource
tracker) must all end by themselves once the runtime is gone, and no shared-memory name of
theirs may stay in /dev/shm: every name is unlinked as soon as everyone attached, and the
names say whose they were (edge_runtime/ipc/names.py). The waits end on the condition; the
5 s figure of issue 13 is measured by `edgerun bench faults`, not asserted here.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edge_runtime.bench import process_tree
from edge_runtime.ipc.names import entries_of

pytestmark = pytest.mark.slow
HANG_S = 240.0  # only catches a hang: a loaded machine makes every wait longer, never fail
RUNNING_BYTES = 64 * 1024  # recorded: the control loop ticks and the recorder writes


def _start_demo(tmp_path: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "edge_runtime.cli.main", "demo", "--duration", "600"]
    cmd += ["--out", str(tmp_path / "out"), "--record", str(tmp_path / "rec")]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(tmp_path / "demo.log", "wb") as sink:  # a pipe nobody reads would block it
        return subprocess.Popen(
            cmd, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )


def _wait_running(proc: subprocess.Popen[bytes], tmp_path: Path) -> None:
    deadline = time.monotonic() + HANG_S
    while sum(p.stat().st_size for p in (tmp_path / "rec").glob("*.erlog")) < RUNNING_BYTES:
        if proc.poll() is not None:
            log = (tmp_path / "demo.log").read_text(errors="replace")
            raise AssertionError(f"the demo exited ({proc.returncode}) before recording:\n{log}")
        assert time.monotonic() < deadline, f"the demo recorded nothing in {HANG_S:.0f} s"
        time.sleep(0.1)


def _wait_gone(pids: set[int]) -> list[int]:
    deadline = time.monotonic() + HANG_S
    while any(process_tree.alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [p for p in pids if process_tree.alive(p)]


@pytest.mark.parametrize("whole_group", [False, True], ids=["runtime", "group"])
def test_sigkill_leaves_no_process_and_no_shared_memory(tmp_path: Path, whole_group: bool) -> None:
    proc = _start_demo(tmp_path)
    tree: set[int] = {proc.pid}
    try:
        _wait_running(proc, tmp_path)
        tree |= set(process_tree.descendants(proc.pid))
        assert len(tree) >= 3, "expected the runtime, its control process and the arm"
        if whole_group:
            os.killpg(proc.pid, signal.SIGKILL)
        else:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=HANG_S)
        left = _wait_gone(tree)
        assert left == [], [process_tree.cmdline(p) for p in left]
        assert entries_of(tree) == []
    finally:
        for pid in tree:
            if process_tree.alive(pid):
                os.kill(pid, signal.SIGKILL)
