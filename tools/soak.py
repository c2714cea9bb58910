"""Soak: a long `edgerun demo` run, watched for slow leaks (issue 13; not in CI).

Why in-process: the run is `drive()` exactly as `edgerun demo` assembles it, plus one observer
that counts ticks and missed periods per minute; a sampler thread reads /proc every
`--sample` seconds for this process and every descendant (control process, simulated rig,
recorder writer): resident memory and open file descriptors. A leak shows as a slope over
the minutes, a scheduling problem as missed periods that grow with time.

    nice -n 10 python tools/soak.py --minutes 30 --out out/soak

writes soak.json (samples, per-minute ticks and misses, the run report) and soak.png.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from edge_runtime.bench.process_tree import cmdline, descendants
from edge_runtime.errors import EdgeRuntimeError
from edge_runtime.pipeline.observer import LoopObserver, TickRecord

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
MIN_RUN_S = 30.0  # no new run for less than this
HANG_S = 60.0  # a run still going this long after its duration has hung


class PerMinute(LoopObserver):
    """Ticks and missed periods, bucketed per minute of the soak (all its runs)."""

    def __init__(self) -> None:
        self.start_ns = time.monotonic_ns()  # the runtime's clock is CLOCK_MONOTONIC too
        self.ticks: dict[int, int] = {}
        self.missed: dict[int, int] = {}

    def on_tick(self, record: TickRecord) -> None:
        minute = (record.start_ns - self.start_ns) // 60_000_000_000
        self.ticks[minute] = self.ticks.get(minute, 0) + 1
        self.missed[minute] = self.missed.get(minute, 0) + record.missed


def _role(pid: int) -> str:
    line = cmdline(pid)
    if pid == os.getpid():
        return "runtime"
    for marker, role in (
        ("child_writer", "recorder"),
        ("spawn_main", "child"),
        ("resource_tracker", "resource tracker"),
    ):
        if marker in line:
            return role
    return line.split(" ")[0].rsplit("/", 1)[-1] or "?"


def _rss_kb(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KB
    except (OSError, IndexError, ValueError):
        return 0


def _fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def sample_tree(t0: float) -> dict[str, Any]:
    """RSS (kB) and open fds of this process and each descendant, keyed by pid."""
    procs = {}
    for pid in [os.getpid(), *descendants(os.getpid())]:
        procs[str(pid)] = {"role": _role(pid), "rss_kb": _rss_kb(pid), "fds": _fds(pid)}
    return {"t_s": round(time.monotonic() - t0, 1), "procs": procs}


def soak(minutes: float, out_dir: Path, sample_s: float) -> dict[str, Any]:
    os.environ.setdefault("MUJOCO_GL", "osmesa")
    os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")
    from edge_runtime.drive import DriveOptions, demo_bundle, demo_config, drive

    out_dir.mkdir(parents=True, exist_ok=True)
    hangs = open(out_dir / "hangs.txt", "w")  # noqa: SIM115 (open for the whole soak)
    counter = PerMinute()
    samples: list[dict[str, Any]] = []
    done = threading.Event()
    t0 = time.monotonic()

    def sampler() -> None:
        while not done.wait(sample_s):
            samples.append(sample_tree(t0))

    thread = threading.Thread(target=sampler, daemon=True)
    thread.start()
    runs: list[dict[str, Any]] = []
    try:
        # A run that stops early (a safety stop on an overloaded machine) is followed by the
        # next one in this same process, until the time is up: each stop is in `runs`.
        while (left_s := minutes * 60 - (time.monotonic() - t0)) > MIN_RUN_S:
            options = DriveOptions(
                duration_s=left_s, out_dir=out_dir, bundle=demo_bundle(out_dir),
                observers=(counter,), seed=len(runs),
            )  # fmt: skip
            start_s = time.monotonic() - t0
            # A run that does not end in time leaves every thread's stack here (a hang).
            faulthandler.dump_traceback_later(left_s + HANG_S, file=hangs)
            try:
                outcome = drive(demo_config(), options)
                stop, report = outcome.result.stop_reason, outcome.report
            except EdgeRuntimeError as exc:  # e.g. the arm did not start on a starved machine
                stop, report = f"did not start: {exc}", {}
            faulthandler.cancel_dump_traceback_later()
            runs.append({
                "start_s": round(start_s, 1), "end_s": round(time.monotonic() - t0, 1),
                "stop_reason": stop, "report": report,
            })  # fmt: skip
    finally:
        done.set()
        thread.join()
    return {
        "minutes": minutes,
        "load_at_end": os.getloadavg(),
        "runs": runs,
        "per_minute": [
            {"minute": m, "ticks": counter.ticks[m], "missed": counter.missed.get(m, 0)}
            for m in sorted(counter.ticks)
        ],
        "samples": samples,
    }


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (mem, fds, miss) = plt.subplots(3, 1, figsize=(8, 8), sharex=True)
    roles: dict[str, tuple[list[float], list[int], list[int]]] = {}
    for s in result["samples"]:
        for pid, p in s["procs"].items():
            series = roles.setdefault(f"{p['role']} {pid}", ([], [], []))
            series[0].append(s["t_s"] / 60)
            series[1].append(p["rss_kb"] / 1024)
            series[2].append(p["fds"])
    for name, (t, rss, fd) in roles.items():
        mem.plot(t, rss, label=name)
        fds.plot(t, fd, label=name)
    minutes = result["per_minute"]
    miss.bar([m["minute"] + 0.5 for m in minutes], [m["missed"] for m in minutes], width=0.8)
    for run in result["runs"][1:]:  # a new run after an early stop
        for axis in (mem, fds, miss):
            axis.axvline(run["start_s"] / 60, color="red", linewidth=0.8, linestyle=":")
    mem.set_ylabel("RSS (MiB)")
    fds.set_ylabel("open fds")
    miss.set_ylabel("missed periods / min")
    miss.set_xlabel("minutes")
    mem.legend(fontsize=6, ncol=2)
    mem.set_title("edgerun demo soak")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--out", default="out/soak")
    args = parser.parse_args()
    out_dir = Path(args.out)
    result = soak(args.minutes, out_dir, args.sample)
    (out_dir / "soak.json").write_text(json.dumps(result, indent=1, default=str))
    plot(result, out_dir / "soak.png")
    print(f"soak: {out_dir / 'soak.json'} {out_dir / 'soak.png'}")


if __name__ == "__main__":
    main()
