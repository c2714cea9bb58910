"""`edgerun bench loop`: how punctual is the control thread while inference runs beside it?

Two loops run the same representative control step under the same inference load:
- `baseline`: paced the way LeRobot paces its loop, `time.sleep` to the next deadline, on a
  normal thread with CPython's defaults. (LeRobot sleeps `1/fps - elapsed`, relative to the
  iteration start, which also drifts; the baseline here keeps absolute deadlines so the
  comparison is about wake-up precision only.) An overrun is not skipped: late ticks run
  back to back, as in LeRobot. `missed` counts ticks that started a whole period late.
- `edgerun`: `FixedRateScheduler` (sleep, then spin the last stretch) on a thread set up by
  `configure_realtime` (SCHED_FIFO, its own CPU, timer slack 1 ns, gc frozen, memory
  locked) with the GIL switch interval shortened.
Baselines run first, then the edgerun loops, so process-wide settings (switch interval, gc
freeze, mlockall) never help the baseline. Last, with no load and a no-op step, one more
edgerun run measures the scheduler's own per-tick cost.
"""

from __future__ import annotations

import collections
import logging
import multiprocessing as mp
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edge_runtime.bench.load import HORIZON, JOINTS, InferenceLoad
from edge_runtime.bench.loop_targets import verdicts
from edge_runtime.ipc.latest_slot import LatestSlot
from edge_runtime.ipc.shared_slot import SharedArraySlot
from edge_runtime.loop.realtime import available_cpus, configure_realtime, set_gil_switch_interval
from edge_runtime.loop.scheduler import DEFAULT_SPIN_S, FixedRateScheduler, Tick
from edge_runtime.loop.summary import LoopSummary

log = logging.getLogger(__name__)


@dataclass
class LoopSettings:
    """How the edgerun loop is set up (the CLI flags); defaults are the runtime's defaults."""

    spin_s: float = DEFAULT_SPIN_S
    switch_interval_s: float | None = None  # None: CPython's default (5 ms)
    realtime: bool = True
    priority: int = 80
    cpu: int | None = field(default_factory=lambda: available_cpus()[-1])
    isolation: str = "process"  # "process": its own process (the design); "thread": in-process

    @classmethod
    def variants(
        cls, isolation: str, spin_s: float, realtime: bool, switch_interval_s: float | None
    ) -> list[LoopSettings]:
        """One setting per isolation asked for ("thread", "process" or "both"), alike otherwise."""
        kinds = ["thread", "process"] if isolation == "both" else [isolation]
        spin_s = max(spin_s, 0.0)
        return [
            cls(spin_s=spin_s, switch_interval_s=switch_interval_s, realtime=realtime, isolation=i)
            for i in kinds
        ]


class ControlStep:
    """A representative control step: newest chunk, pick the action, clamp, record.

    No I/O: it reads the action chunk slot the worker fills, picks the action for this
    tick, applies joint limits and a per-tick step limit with numpy, and appends to a
    bounded in-memory record. The real step adds the motor bus round trip.
    """

    def __init__(self, chunks: LatestSlot[np.ndarray], period_s: float) -> None:
        self.chunks = chunks
        self.lower = np.full(JOINTS, -1.5)
        self.upper = np.full(JOINTS, 1.5)
        self.max_step = 2.0 * period_s  # rad per tick at 2 rad/s
        self.command = np.zeros(JOINTS)
        self.record: collections.deque[tuple[int, int, np.ndarray]] = collections.deque(maxlen=4096)

    def __call__(self, tick: Tick) -> None:
        chunk, _version = self.chunks.get()
        target = self.command if chunk is None else chunk[tick.index % len(chunk)]
        target = np.clip(target, self.lower, self.upper)
        delta = np.clip(target - self.command, -self.max_step, self.max_step)
        self.command = self.command + delta
        self.record.append((tick.index, tick.lateness_ns, self.command))


def _noop(tick: Tick) -> None:
    pass


def _run_on_thread(name: str, body: Callable[[], Any]) -> Any:
    out: dict[str, Any] = {}

    def target() -> None:
        try:
            out["value"] = body()
        except BaseException as exc:  # re-raised on the caller's thread
            out["error"] = exc

    thread = threading.Thread(target=target, name=name)
    thread.start()
    thread.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


def run_baseline(rate_hz: float, ticks: int, step: Callable[[Tick], None]) -> dict[str, Any]:
    """LeRobot-style pacing: `time.sleep(deadline - now)`, default thread, no skipping."""
    period_ns = round(1e9 / rate_hz)
    summary = LoopSummary(period_ns, capacity=max(ticks, 1))

    def loop() -> float:
        cpu0, wall0 = time.thread_time_ns(), time.monotonic_ns()
        t0 = time.monotonic_ns()
        for i in range(ticks):
            deadline = t0 + i * period_ns
            remaining = deadline - time.monotonic_ns()
            if remaining > 0:
                time.sleep(remaining / 1e9)
            start = time.monotonic_ns()
            lateness = max(0, start - deadline)
            step(Tick(i, deadline, start, lateness, 0))
            end = time.monotonic_ns()
            summary.record(lateness, end - start, 0, int(lateness >= period_ns))
        return (time.thread_time_ns() - cpu0) / max(time.monotonic_ns() - wall0, 1)

    cpu_share = _run_on_thread("bench-baseline", loop)
    return _result("baseline", summary, cpu_share, {"pacing": "time.sleep to deadline"})


def _edgerun_loop(rate_hz: float, ticks: int, step: Callable[[Tick], None], settings: LoopSettings):
    """Body of the edgerun control thread (in this process or in a child process)."""
    scheduler = FixedRateScheduler(1.0 / rate_hz, spin_s=settings.spin_s)
    realtime = "off"
    if settings.realtime:
        realtime = configure_realtime(priority=settings.priority, cpu=settings.cpu).describe()
    cpu0, wall0 = time.thread_time_ns(), time.monotonic_ns()
    scheduler.run(step, max_ticks=ticks)
    cpu_share = (time.thread_time_ns() - cpu0) / max(time.monotonic_ns() - wall0, 1)
    setup = {
        "isolation": settings.isolation,
        "spin_us": round(settings.spin_s * 1e6),
        "switch_interval_us": round(sys.getswitchinterval() * 1e6),
        "realtime": realtime,
    }
    return _result("edgerun", scheduler.summary, cpu_share, setup)


def run_edgerun(
    rate_hz: float,
    ticks: int,
    step: Callable[[Tick], None],
    settings: LoopSettings,
) -> dict[str, Any]:
    """The runtime's loop on a thread of this process, sharing the GIL with the load."""
    previous = sys.getswitchinterval()
    if settings.switch_interval_s is not None:
        set_gil_switch_interval(settings.switch_interval_s)
    try:
        return _run_on_thread(
            "bench-edgerun", lambda: _edgerun_loop(rate_hz, ticks, step, settings)
        )
    finally:
        sys.setswitchinterval(previous)


def _control_process(conn: Any, slot: SharedArraySlot, rate_hz: float, ticks: int, settings):
    """Child process: the control loop alone with its own GIL; chunks come through `slot`."""
    try:
        if settings.switch_interval_s is not None:
            set_gil_switch_interval(settings.switch_interval_s)
        conn.send(_edgerun_loop(rate_hz, ticks, ControlStep(slot, 1.0 / rate_hz), settings))
    except BaseException as exc:
        conn.send(RuntimeError(f"control process failed: {exc!r}"))
    finally:
        slot.close()
        conn.close()


def run_edgerun_process(
    rate_hz: float, ticks: int, slot: SharedArraySlot, settings: LoopSettings
) -> dict[str, Any]:
    """The runtime's loop in a child process fed through shared memory (no shared GIL)."""
    ctx = mp.get_context("spawn")  # never fork a process that runs ONNX Runtime threads
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(
        target=_control_process, args=(child, slot, rate_hz, ticks, settings), name="edgerun-ctl"
    )
    process.start()
    child.close()
    try:
        result = parent.recv()
    except EOFError:
        result = RuntimeError(f"control process died (exit code {process.exitcode})")
    process.join(10)
    if isinstance(result, BaseException):
        raise result
    return result


def _result(loop: str, summary: LoopSummary, cpu_share: float, setup: dict[str, Any]):
    d = summary.as_dict()
    busy = summary.step_ns() + summary.overhead_ns()
    return {
        "loop": loop,
        "rate_hz": round(d["rate_hz"], 3),
        "ticks": d["ticks"],
        "lateness_us": d["lateness_us"],
        "missed": d["missed"],
        "overruns": d["overruns"],  # ticks after which periods were skipped: stall events
        "overhead_us_p50": round(float(np.median(busy)) / 1e3, 1) if busy.size else 0.0,
        "scheduler_us_p50": d["overhead_us"]["p50"],
        "step_us_p50": d["step_us"]["p50"],
        "cpu_percent": round(100 * cpu_share, 1),
        "setup": setup,
        "_lateness_ns": summary.lateness_ns(),  # for the plot; dropped from the JSON
    }


def run_loop_bench(
    rates_hz: list[float],
    ticks: int,
    load_kind: str = "full",
    variants: list[LoopSettings] | None = None,
    overhead_ticks: int = 5000,
    on_run: Callable[[str, float], None] | None = None,
) -> dict[str, Any]:
    """Everything `edgerun bench loop` measures: {"runs": [...], "load": {...}, "verdicts": [...]}.

    Each entry of `variants` is one edgerun configuration (e.g. thread vs process), run at
    every rate after all the baselines.
    """
    variants = variants or [LoopSettings()]
    runs: list[dict[str, Any]] = []
    announce = on_run or (lambda loop, rate: None)
    edgerun_cpus = {v.cpu for v in variants if v.realtime and v.cpu is not None}
    load_cpus = set(available_cpus()) - edgerun_cpus
    slot = SharedArraySlot((HORIZON, JOINTS))
    try:
        with InferenceLoad(load_kind, cpus=load_cpus or None) as load:
            load.sinks.append(slot)
            if load_kind != "none":
                load.chunks.wait_newer(0, timeout_s=10)  # the worker is up and producing
            for rate in rates_hz:
                announce("baseline", rate)
                step = ControlStep(load.chunks, 1.0 / rate)
                runs.append({**run_baseline(rate, ticks, step), "load": load_kind})
            for settings in variants:
                for rate in rates_hz:
                    announce(f"edgerun ({settings.isolation})", rate)
                    if settings.isolation == "process":
                        run = run_edgerun_process(rate, ticks, slot, settings)
                    else:
                        run = run_edgerun(
                            rate, ticks, ControlStep(load.chunks, 1.0 / rate), settings
                        )
                    runs.append({**run, "load": load_kind})
            load_info = _load_info(load)
    finally:
        slot.close()
        slot.unlink()
    if overhead_ticks > 0:
        rate = max(rates_hz)
        announce("edgerun (no-op step, no load)", rate)
        run = run_edgerun(rate, overhead_ticks, _noop, variants[0])
        runs.append({**run, "load": "none", "step": "noop"})
    return {"runs": runs, "load": load_info, "verdicts": verdicts(runs)}


def _load_info(load: InferenceLoad) -> dict[str, Any]:
    infer = np.asarray(load.infer_ms)
    return {
        "kind": load.kind,
        "model_ms": round(load.model_ms, 1),
        "conv_layers": load.layers,
        "cpus": sorted(load.cpus or []),
        "iterations": int(infer.size),
        "iteration_ms_p50": round(float(np.median(infer)), 1) if infer.size else 0.0,
        "iteration_ms_p99": round(float(np.percentile(infer, 99)), 1) if infer.size else 0.0,
    }


# How `edgerun bench loop` shows the runs: (key path in a run dict, column title).
TABLE_COLUMNS = [
    ("loop", "loop"),
    ("setup.isolation", "in"),
    ("rate_hz", "Hz"),
    ("load", "load"),
    ("ticks", "ticks"),
    ("lateness_us.p50", "late p50 µs"),
    ("lateness_us.p99", "late p99 µs"),
    ("lateness_us.max", "late max µs"),
    ("missed", "missed"),
    ("overruns", "stalls"),
    ("overhead_us_p50", "tick cost p50 µs"),
    ("scheduler_us_p50", "sched p50 µs"),
    ("cpu_percent", "cpu %"),
]


def load_caption(load: dict[str, Any]) -> str:
    """What loaded the machine beside the loop, for the table's caption."""
    return (
        f"load: {load['kind']}, model {load['model_ms']} ms ({load['conv_layers']} convs), "
        f"worker iteration p50 {load['iteration_ms_p50']} ms; tick cost = step + scheduler"
    )


def json_payload(result: dict[str, Any]) -> dict[str, Any]:
    """The JSON `bench loop --json` writes: the runs without their raw samples ("_" keys)."""
    clean = [{k: v for k, v in r.items() if not k.startswith("_")} for r in result["runs"]]
    return {"runs": clean, "load": result["load"]}
