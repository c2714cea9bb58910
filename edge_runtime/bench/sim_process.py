"""A simulated device (`edgerun sim ...`) in a child process, for the benchmarks that drive one.

In its own process the device's CPU time is not charged to the benchmark, so the process or
thread CPU clocks the benchmarks read measure the host driver alone, as on a robot where the
device is real hardware.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from firmware_bridge.errors import BridgeError

START_TIMEOUT_S = 30.0  # patient: a loaded machine can take seconds to import and start it


@contextmanager
def sim_device_process(command: Sequence[str], link: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`edgerun sim COMMAND... --link LINK` for the block, once LINK exists; SIGTERM after it."""
    argv = [sys.executable, "-m", "edge_runtime.cli.main", "sim", *command, "--link", str(link)]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not link.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise BridgeError(
                    f"the simulated device (`edgerun sim {' '.join(command)}`) did not start "
                    f"(exit code {proc.poll()}); run that command with --link PATH to see why"
                )
            time.sleep(0.02)
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)  # it stops, removes its link and exits
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
