"""Pool workers end with their parent: a SIGKILLed benchmark leaves no process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

PARENT = """
import sys, time
from concurrent.futures import ProcessPoolExecutor
import multiprocessing, os
from edge_runtime.ipc.lifetime import die_with_parent
init = die_with_parent if sys.argv[1] == "die" else None
pool = ProcessPoolExecutor(1, multiprocessing.get_context("spawn"), initializer=init)
print(pool.submit(os.getpid).result(), flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead too (reaped by init soon after).
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(")")[-1].split()[0] != "Z"


def _worker_after_parent_killed(mode: str, wait_s: float) -> tuple[int, bool]:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, mode], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    worker = int(parent.stdout.readline())
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + wait_s  # ends as soon as the worker is gone
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    return worker, _alive(worker)


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
def test_a_pool_worker_dies_with_its_killed_parent() -> None:
    _, alive = _worker_after_parent_killed("die", wait_s=20.0)  # generous under load
    assert not alive


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
def test_without_it_the_worker_is_orphaned() -> None:
    """The reason for the helper (and proof that the test above can fail)."""
    worker, alive = _worker_after_parent_killed("keep", wait_s=2.0)
    try:
        assert alive
    finally:
        if alive:
            os.kill(worker, signal.SIGKILL)
