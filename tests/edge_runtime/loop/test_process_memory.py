"""Process memory from /proc, the run report's memory line, and what locking memory costs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from edge_runtime.loop.process_memory import ProcessMemory, memory_report, process_memory
from edge_runtime.pipeline.report import memory_row

RESERVED_MB = 256
SHARED_MB = 4


def test_process_memory_reads_status_and_smaps_rollup(tmp_path: Path) -> None:
    (tmp_path / "7").mkdir()
    status = "Name:\tpython\nVmHWM:\t  40960 kB\nVmRSS:\t  30720 kB\n"
    (tmp_path / "7" / "status").write_text(status)
    (tmp_path / "7" / "smaps_rollup").write_text("Rss:  30720 kB\nLocked:   20480 kB\n")
    assert process_memory(7, tmp_path) == ProcessMemory(30.0, 40.0, 20.0)
    assert process_memory(8, tmp_path) == ProcessMemory()  # gone (or not Linux): zeros


def test_process_memory_of_this_process_is_resident() -> None:
    memory = process_memory()
    assert 0 < memory.rss_mb <= memory.peak_rss_mb


def test_the_memory_line_names_both_processes() -> None:
    report = memory_report(ProcessMemory(38.5, 39.0, 22.6), ProcessMemory(233.7, 256.0, 0.0))
    assert report["control_locked_mb"] == 22.6
    assert report["runtime_rss_mb"] == 233.7
    assert memory_row(report) == (
        "control 38.5 MB (22.6 MB locked, peak 39), runtime 233.7 MB (peak 256)"
    )
    gpu = memory_report(ProcessMemory(), ProcessMemory(), {"policy": 41.5, "encoder": 12.0})
    assert memory_row(gpu).endswith("; GPU policy 41.5 MB, encoder 12 MB")


def test_locking_memory_does_not_populate_untouched_reservations() -> None:
    # In a child: mlockall is process-wide. A never-touched mapping (as OpenBLAS's per-thread
    # buffers are in the control process) must stay out of RAM once memory is locked; a
    # plain MCL_CURRENT lock would make all of it resident.
    # Shared memory (the tick ring, written every period) is the exception: made resident now.
    code = (
        "import mmap; from multiprocessing.shared_memory import SharedMemory;"
        "from edge_runtime.loop.realtime import configure_realtime as c;"
        "from edge_runtime.loop.process_memory import process_memory;"
        f"reserved = mmap.mmap(-1, {RESERVED_MB} << 20);"
        f"shared = SharedMemory(create=True, size={SHARED_MB} << 20);"
        "r = c(priority=None, timer_slack_ns=None, freeze_gc=False);"
        "m = process_memory();"
        "shm_kb = next(int(x.split()[1]) for x in open('/proc/self/status') if 'RssShmem' in x);"
        "shared.close(); shared.unlink();"
        "print(r.memory_locked, m.rss_mb, m.locked_mb, shm_kb / 1024)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    locked, rss_mb, locked_mb, shared_mb = out.stdout.split()
    if locked != "True":  # no permission to lock here: nothing to check
        return
    assert float(rss_mb) < RESERVED_MB
    assert float(locked_mb) > 0
    assert float(shared_mb) >= SHARED_MB
