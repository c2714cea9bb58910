"""Make the calling thread as punctual as this machine allows, and say what was applied.

Each knob is applied when the OS permits it and skipped with ONE log line when it does not
(no root, no CAP_SYS_NICE, not Linux); the loop still runs, just with more jitter.

Per thread (apply them on the control thread itself):
- timer slack 1 ns (`prctl(PR_SET_TIMERSLACK)`): Linux otherwise rounds a normal thread's
  sleep up by 50 µs; measured p50 lateness 109 -> 58 µs at 100 Hz.
- SCHED_FIFO: the thread preempts every normal (CFS) thread when its sleep ends, so a busy
  inference worker, the recorder or another process cannot delay the wake-up. On Linux
  `os.sched_setscheduler(0, ...)` and `os.sched_setaffinity(0, ...)` act on the calling
  thread (pid 0 = the caller's TID), not the whole process.
- CPU affinity: keeps the control thread on a core the inference worker is kept off.
Per process:
- `gc.freeze()`: moves every object alive now out of the collector's sight, so a full
  collection (which runs in whichever thread triggers it, holding the GIL) walks only new
  objects: a few hundred µs instead of milliseconds with torch or onnx imported.
- `mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)`: no page the process has touched, or
  touches later, is ever paged out, so no page fault sends the control thread to disk. ONFAULT
  (Linux >= 4.4) locks pages as they are touched instead of populating every mapping at once:
  without it, numpy's OpenBLAS alone wired 32 MB of never-used buffer per BLAS thread plus an
  8 MB stack per thread, and the control process held ~160 MB of RAM the GPU shares on a
  Jetson (docs/perf/memory.md). Older kernels get the plain lock. Malloc arenas are capped at
  one first: under MCL_FUTURE each new per-thread arena's 64 MB reservation counts as locked
  memory (VmLck, RLIMIT_MEMLOCK), and the control process has no allocation contention to gain
  from more. Shared memory (the tick ring, written every period) is populated at once.
What this cannot fix: a control *thread* shares the GIL with the inference worker. Measured
under load (docs/perf/loop.md), a shorter GIL switch interval (`set_gil_switch_interval`)
did not bring a thread's p99 lateness under a millisecond, because the worker often holds
the GIL while the OS has preempted it, and no interval makes a descheduled thread let go.
The loop that holds the period runs in its own process (`edge_runtime.ipc.shared_slot`).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from errno import EINVAL

log = logging.getLogger(__name__)

PR_SET_TIMERSLACK = 29
PR_GET_TIMERSLACK = 30
MCL_CURRENT = 1
MCL_FUTURE = 2
MCL_ONFAULT = 4
M_ARENA_MAX = -8  # mallopt parameter (glibc malloc.h)
SHARED_MEMORY_DIR = "/dev/shm/"  # where POSIX shared memory (the ipc channels) lives


@dataclass
class RealtimeReport:
    """What `configure_realtime` applied (None / False = not applied) and why not."""

    timer_slack_ns: int | None = None
    priority: int | None = None
    cpu: int | None = None
    memory_locked: bool = False
    gc_frozen: bool = False
    skipped: list[str] = field(default_factory=list)

    def describe(self) -> str:
        parts = [
            f"timer slack {self.timer_slack_ns} ns" if self.timer_slack_ns is not None else "",
            f"SCHED_FIFO {self.priority}" if self.priority is not None else "",
            f"cpu {self.cpu}" if self.cpu is not None else "",
            "memory locked" if self.memory_locked else "",
            "gc frozen" if self.gc_frozen else "",
        ]
        applied = ", ".join(p for p in parts if p) or "nothing"
        return applied + (f" (skipped: {'; '.join(self.skipped)})" if self.skipped else "")


def configure_realtime(
    priority: int | None = 80,
    cpu: int | None = None,
    lock_memory: bool = True,
    freeze_gc: bool = True,
    timer_slack_ns: int | None = 1,
) -> RealtimeReport:
    """Apply real-time settings to the calling thread (and the process where per-process).

    None / False skips a setting. Never raises for a missing permission: each refusal is
    logged once and listed in `report.skipped`.
    """
    report = RealtimeReport()
    if timer_slack_ns is not None and _try(report, "timer slack", _set_timer_slack, timer_slack_ns):
        report.timer_slack_ns = timer_slack_ns
    if priority is not None and _try(report, "SCHED_FIFO", _set_fifo, priority):
        report.priority = priority
    if cpu is not None and _try(report, "CPU affinity", os.sched_setaffinity, 0, {cpu}):
        report.cpu = cpu
    if lock_memory:
        report.memory_locked = _try(report, "mlockall", _lock_memory)
    if freeze_gc:
        gc.collect()
        gc.freeze()
        report.gc_frozen = True
    log.info("real-time settings: %s", report.describe())
    return report


def set_gil_switch_interval(seconds: float) -> float:
    """Set CPython's GIL switch interval for the whole process; returns the previous value.

    CPython's default is 5 ms. A waiting thread asks the GIL holder to let go after this
    long; measured not to help a control thread much (module docstring), kept for tuning.
    """
    if not seconds > 0:
        raise ValueError(f"switch interval must be > 0 seconds, got {seconds!r}")
    previous = sys.getswitchinterval()
    sys.setswitchinterval(seconds)
    return previous


def available_cpus() -> list[int]:
    """CPUs this process may run on (sorted); all of them where affinity is unsupported."""
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return list(range(os.cpu_count() or 1))


def _try(report: RealtimeReport, name: str, action: Callable[..., object], *args: object) -> bool:
    """Run one setting; on refusal log ONE line, note it in the report and return False."""
    try:
        action(*args)
    except (OSError, AttributeError, ValueError, NotImplementedError) as exc:
        reason = f"{name}: {exc}"
        report.skipped.append(reason)
        log.warning("real-time setting not applied (%s); the loop runs with more jitter", reason)
        return False
    return True


def _libc() -> ctypes.CDLL:
    if not sys.platform.startswith("linux"):
        raise NotImplementedError(f"needs Linux, this is {sys.platform}")
    return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


def _check(result: int, call: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{call} failed: {os.strerror(errno)}")


def _set_timer_slack(slack_ns: int) -> None:
    if slack_ns < 1:
        raise ValueError(f"timer slack must be >= 1 ns, got {slack_ns}")
    libc = _libc()
    prctl = libc.prctl
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    _check(prctl(PR_SET_TIMERSLACK, slack_ns, 0, 0, 0), "prctl(PR_SET_TIMERSLACK)")


def _set_fifo(priority: int) -> None:
    low = os.sched_get_priority_min(os.SCHED_FIFO)
    high = os.sched_get_priority_max(os.SCHED_FIFO)
    if not low <= priority <= high:
        raise ValueError(f"priority must be in {low}..{high}, got {priority}")
    os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))


def _lock_memory() -> None:
    libc = _libc()
    libc.mallopt(M_ARENA_MAX, 1)  # returns 0 where unsupported: then arenas stay as they are
    if libc.mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) == 0:
        _populate_shared_memory(libc)
        return
    if ctypes.get_errno() != EINVAL:  # EINVAL: a kernel without MCL_ONFAULT
        _check(-1, "mlockall")
    _check(libc.mlockall(MCL_CURRENT | MCL_FUTURE), "mlockall")


def _populate_shared_memory(libc: ctypes.CDLL) -> None:
    """Fault in and lock every shared-memory mapping now (plain mlock populates).

    The control process writes its tick ring (shared memory) every period: under MCL_ONFAULT
    each new page of it would fault on its first write, in the loop, a few times a second.
    A refusal is harmless (those pages then fault once each, and stay locked).
    """
    mlock = libc.mlock
    mlock.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    for start, end in _mapped_ranges(SHARED_MEMORY_DIR):
        mlock(start, end - start)


def _mapped_ranges(path_prefix: str) -> list[tuple[int, int]]:
    """Address ranges of this process's mappings of files under `path_prefix`."""
    ranges = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and fields[5].startswith(path_prefix):
                start, end = fields[0].split("-")
                ranges.append((int(start, 16), int(end, 16)))
    return ranges
