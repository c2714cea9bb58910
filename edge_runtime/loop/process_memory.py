"""A process's memory as Linux accounts it: resident now, resident at peak, locked resident.

The control process locks its memory and shares the Jetson's RAM with the GPU, so the run
report and the selftest show what each process holds (docs/perf/memory.md). Locked memory
is the resident locked pages (`Locked:` in smaps_rollup), not VmLck: VmLck counts whole
locked mappings, reserved-but-untouched ones too (OpenBLAS's buffers, malloc arenas), which
`mlockall(MCL_ONFAULT)` never makes resident. Reading smaps_rollup walks the page tables
(about a millisecond): call it outside the control period.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

KB_PER_MB = 1024.0


@dataclass(frozen=True)
class ProcessMemory:
    rss_mb: float = 0.0  # VmRSS: resident now
    peak_rss_mb: float = 0.0  # VmHWM: the most it has held resident
    locked_mb: float = 0.0  # resident pages that are locked (mlock/mlockall)


def process_memory(pid: int | str = "self", proc: Path = Path("/proc")) -> ProcessMemory:
    """The memory of `pid` (default this process); zeros where /proc has no such fields."""
    status = _fields_kb(proc / str(pid) / "status")
    rollup = _fields_kb(proc / str(pid) / "smaps_rollup")
    return ProcessMemory(
        rss_mb=_mb(status.get("VmRSS", 0)),
        peak_rss_mb=_mb(status.get("VmHWM", 0)),
        locked_mb=_mb(rollup.get("Locked", 0)),
    )


def memory_report(
    control: ProcessMemory, runtime: ProcessMemory, gpu_mb: dict[str, float] | None = None
) -> dict[str, Any]:
    """The run report's `memory`: the control process's (at the end of its loop) and the
    runtime process's (at the end of the run); zeros where no control process ran. `gpu_mb`:
    device memory per engine (TensorRT on a Jetson), left out when empty."""
    extra = {"gpu_mb": dict(gpu_mb)} if gpu_mb else {}
    return {
        "control_rss_mb": control.rss_mb,
        "control_peak_rss_mb": control.peak_rss_mb,
        "control_locked_mb": control.locked_mb,
        "runtime_rss_mb": runtime.rss_mb,
        "runtime_peak_rss_mb": runtime.peak_rss_mb,
        **extra,
    }


def _mb(kb: int) -> float:
    return round(kb / KB_PER_MB, 1)


def _fields_kb(path: Path) -> dict[str, int]:
    """`Name:   123 kB` lines of a /proc file; {} if it cannot be read (not Linux, gone)."""
    try:
        text = path.read_text()
    except OSError:
        return {}
    fields = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        parts = value.split()
        if len(parts) == 2 and parts[1] == "kB" and parts[0].isdigit():
            fields[name] = int(parts[0])
    return fields
