"""`edgerun bench faults`: every fault injected at a random moment, judged from outside.

One simulated arm (`SimRig`, its servos recording what reaches them) serves the whole
campaign; each run starts a fresh runtime under test in its own process (`faults_target`),
waits until its control loop is armed, waits a random 0.3-1.2 s, injects the fault
(`faults_catalog`), and lets the run end: at its duration, or stopped. Then it judges
(`faults_judge`): unsafe commands at the servos, when they all stopped relative to the
detection (in control periods), what the episode log lost before its last record, and
whether any process or /dev/shm entry of the run outlived it by 5 s.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.bench import process_tree
from edge_runtime.bench.faults_catalog import (
    FAULT_NAMES,
    FAULTS,
    STOPPED,
    SURVIVED,
    Fault,
    Injection,
)
from edge_runtime.bench.faults_env import DiskFull, WallClock
from edge_runtime.bench.faults_judge import JointLimits, judge_witness, log_loss
from edge_runtime.bench.faults_summary import summarize, verdicts
from edge_runtime.bench.faults_target import TargetSpec, target_main
from edge_runtime.config import RobotConfig
from edge_runtime.errors import ConfigError, EdgeRuntimeError
from edge_runtime.ipc.names import entries_of

ARM_TIMEOUT_S = 120.0  # spawn, imports and model warm-up on a loaded machine
END_TIMEOUT_S = 30.0  # after the planned duration
OUTLIVE_S = 5.0  # every process of a run must be gone this long after it ended
INJECT_AFTER_S = (0.3, 1.2)  # after the first tick
START_ATTEMPTS = 3


@dataclass
class Campaign:
    """What every run shares: the arm, the bundle, the prepared environments."""

    config: RobotConfig
    bundle_dir: Path
    work_dir: Path
    duration_s: float = 3.0
    rig: Any = None
    disk: DiskFull | None = None
    wallclock: WallClock | None = None
    notes: dict[str, str] = field(default_factory=dict)

    def limits(self) -> JointLimits:
        joints = self.config.joints
        period = self.config.period_s
        return JointLimits(
            lower_rad=np.array([j.min_rad for j in joints]),
            upper_rad=np.array([j.max_rad for j in joints]),
            max_step_rad=np.array([j.max_velocity_rad_s * period for j in joints]),
            period_ns=round(period * 1e9),
        )

    def start_rig(self) -> None:
        from edge_runtime.sim.rig import SimRig

        self.stop_rig()
        self.rig = SimRig(self.config, witness=True, share_camera=True).start()

    def stop_rig(self) -> None:
        if self.rig is not None:
            self.rig.stop()
            self.rig = None

    def prepare(self, fault: Fault) -> str:
        """Set up what `fault` needs once; '' or why it cannot run here."""
        try:
            if fault.needs == "disk" and self.disk is None:
                self.disk = DiskFull(self.work_dir / "disk")
                self.notes["disk_full"] = self.disk.method
            if fault.needs == "wallclock" and self.wallclock is None:
                self.wallclock = WallClock(self.work_dir / "wallclock")
                self.notes["wall_clock_step"] = "LD_PRELOAD offset on CLOCK_REALTIME"
        except (OSError, ValueError) as exc:
            return str(exc)
        return ""

    def close(self) -> None:
        self.stop_rig()
        for part in (self.disk, self.wallclock):
            if part is not None:
                part.close()


def run_bench(
    repeats: int = 5,
    names: Sequence[str] | None = None,
    seed: int = 0,
    duration_s: float = 3.0,
    bundle_dir: Path | None = None,
    progress: Callable[[str, int, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """The campaign's JSON: {"faults": [row per fault], "verdicts": [...], "machine": ...}."""
    from edge_runtime.bench.report import machine_info
    from edge_runtime.drive import demo_bundle, demo_config

    unknown = sorted(set(names or ()) - set(FAULT_NAMES))
    if unknown:
        raise ConfigError(f"unknown fault {unknown[0]!r}; choose from {', '.join(FAULT_NAMES)}")
    chosen = [f for f in FAULTS if not names or f.name in names]
    rng = random.Random(seed)
    rows = []
    with tempfile.TemporaryDirectory(prefix="edgerun-faults-") as tmp:
        work = Path(tmp)
        bundle = bundle_dir or demo_bundle(work)
        campaign = Campaign(demo_config(), bundle, work, duration_s)
        try:
            campaign.start_rig()
            for fault in chosen:
                skipped = campaign.prepare(fault)
                runs = []
                for repeat in range(0 if skipped else repeats):
                    runs.append(run_started(campaign, fault, rng, repeat))
                    if progress is not None:
                        progress(fault.name, repeat, runs[-1])
                rows.append(summarize(fault, runs, skipped, campaign.notes.get(fault.name, "")))
        finally:
            campaign.close()
    return {
        "faults": rows,
        "verdicts": verdicts(rows),
        "settings": {"repeats": repeats, "seed": seed, "duration_s": duration_s},
        "machine": machine_info(),
    }


def run_started(
    campaign: Campaign, fault: Fault, rng: random.Random, repeat: int
) -> dict[str, Any]:
    """`run_once`, again when the runtime failed before its first tick (before any fault:
    e.g. servos too slow to answer the enable on a loaded machine); such tries are counted."""
    errors: list[str] = []
    run = _run_guarded(campaign, fault, rng, repeat)
    while run["outcome"] == "did not start" and len(errors) + 1 < START_ATTEMPTS:
        errors.append(run.get("error", ""))
        run = _run_guarded(campaign, fault, rng, repeat)
    run["start_retries"] = len(errors)
    if errors:
        run["start_errors"] = errors
    return run


def _run_guarded(
    campaign: Campaign, fault: Fault, rng: random.Random, repeat: int
) -> dict[str, Any]:
    """`run_once`; the arm restarted after a run that hung, or when the arm itself stopped
    answering (the campaign goes on and the run says so)."""
    try:
        run = run_once(campaign, fault, rng, repeat)
    except EdgeRuntimeError as exc:
        run = {"repeat": repeat, "outcome": "campaign error", "error": str(exc)}
    if run["outcome"] in ("hung", "campaign error"):
        campaign.start_rig()
    return run


def run_once(campaign: Campaign, fault: Fault, rng: random.Random, repeat: int) -> dict[str, Any]:
    """One run of `fault`: the per-run record of the JSON (see the module docstring)."""
    import multiprocessing as mp

    rig = campaign.rig
    rig.inject("clear")
    mark, _ = rig.witnessed(since=2**62)
    record_dir = _record_dir(campaign, fault, repeat)
    ctx = mp.get_context("spawn")
    conn, child_conn = ctx.Pipe()
    spec = TargetSpec(
        campaign.config, str(campaign.bundle_dir), rig.port, rig.camera_link,
        str(record_dir), campaign.duration_s,
    )  # fmt: skip
    target = ctx.Process(target=target_main, args=(spec, child_conn), name="edgerun-under-test")
    env = campaign.wallclock.env() if fault.needs == "wallclock" and campaign.wallclock else {}
    with _environment(env):
        target.start()
    child_conn.close()
    inbox = _Inbox(conn)
    run: dict[str, Any] = {"repeat": repeat}
    try:
        if not inbox.wait_for("armed", ARM_TIMEOUT_S, target):
            run["outcome"] = "did not start"
            result = inbox.result or {}
            run["error"] = inbox.error or result.get("fault") or f"exit code {target.exitcode}"
            return run
        delay = rng.uniform(*INJECT_AFTER_S)
        time.sleep(delay)
        tree = process_tree.descendants(target.pid)
        injection = Injection(
            rig, target.pid, conn.send, record_dir, rng, campaign.config.motor_ids,
            campaign.disk, campaign.wallclock,
        )  # fmt: skip
        inject_ns = fault.inject(injection)
        inbox.wait_for("result", campaign.duration_s + END_TIMEOUT_S, target)
        inject_ns = inbox.first("injected", inject_ns)
    finally:
        target.join(END_TIMEOUT_S)
        if target.is_alive():
            target.kill()
            target.join()
        conn.close()
    tree_pids = {target.pid, *tree}
    leftovers = _outlived(tree_pids)
    _, entries = rig.witnessed(since=mark)
    run.update(_judge(campaign, fault, inbox, entries, inject_ns, record_dir, delay))
    if inbox.hung:
        run["hung"] = True
    run["leftover_processes"] = leftovers
    run["leftover_shm"] = len(entries_of(tree_pids))
    if fault.restarts_rig:
        campaign.start_rig()
    return run


def _judge(
    campaign: Campaign,
    fault: Fault,
    inbox: _Inbox,
    entries: list[tuple[int, int, str, int]],
    inject_ns: int,
    record_dir: Path,
    delay_s: float,
) -> dict[str, Any]:
    limits = campaign.limits()
    verdict = judge_witness(entries, campaign.config.motor_ids, limits)
    result = inbox.result or {}
    survived = result.get("stop_reason") == "duration reached" and not result.get("fault")
    events = [t for kind, t in inbox.events if t >= inject_ns]
    detect_ns = inject_ns if fault.detection == "injection" or not events else min(events)
    if verdict.unsafe_commands or verdict.driving_at_end:
        outcome = "UNSAFE"
    elif inbox.hung:
        outcome = "hung"
    else:
        outcome = SURVIVED if survived else STOPPED
    period_ns = limits.period_ns
    stopped = verdict.stopped_ns
    loss = log_loss(record_dir, int(result.get("ticks_dropped", 0)))
    out: dict[str, Any] = {
        "outcome": outcome,
        "inject_after_armed_s": round(delay_s, 3),
        "stop_reason": result.get("stop_reason", "(runtime killed)" if not result else ""),
        "fault": result.get("fault", ""),
        "unsafe_commands": verdict.unsafe_commands,
        "unsafe_examples": list(verdict.examples),
        "goals_witnessed": verdict.goals,
        "stopped_by": list(verdict.stopped_by),
        # Servos whose bus watchdog fired before the fault (the control process stalled over
        # watchdog_ms on a loaded machine): they held from then on, refusing goals.
        "watchdog_before_injection": sum(
            1 for t, _, k, _ in entries if k == "watchdog" and t < inject_ns
        ),
        "records_lost": loss.records_lost,
        "log_ticks": loss.ticks,
        "log_problems": loss.problems + ([loss.error] if loss.error else []),
        "recorder_error": result.get("recorder_error", ""),
        "safety_counts": result.get("safety_counts", {}),
    }
    if outcome == STOPPED and stopped is not None:
        out["detected_after_s"] = round((detect_ns - inject_ns) / 1e9, 4)
        out["torque_off_periods"] = round(max(0, stopped - detect_ns) / period_ns, 2)
        out["torque_off_periods_from_injection"] = round(max(0, stopped - inject_ns) / period_ns, 2)
    if "wall_minus_monotonic_ns" in result:
        out["wall_offset_seen_s"] = round(
            (result["wall_minus_monotonic_ns"] - (time.time_ns() - time.monotonic_ns())) / 1e9
        )
    return out


class _Inbox:
    """Messages from the runtime under test, kept as they arrive."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.got: dict[str, int] = {}
        self.events: list[tuple[str, int]] = []
        self.result: dict[str, Any] | None = None
        self.hung = False
        self.error = ""

    def wait_for(self, kind: str, timeout_s: float, process: Any) -> bool:
        deadline = time.monotonic() + timeout_s
        while kind not in self.got and time.monotonic() < deadline:
            try:
                if self.conn.poll(0.05):
                    self._take(self.conn.recv())
                elif not process.is_alive() and not self.conn.poll(0):
                    return kind in self.got  # exited (or killed): nothing more will come
            except (EOFError, OSError):
                return kind in self.got
        self.hung = kind not in self.got and process.is_alive()
        return kind in self.got

    def _take(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "event":
            self.events.append((message[1], message[3]))
        elif kind == "result":
            self.result = message[1]
        elif kind == "error":
            self.error = message[1]
        self.got.setdefault(kind, message[1] if kind in ("armed", "injected") else 0)

    def first(self, kind: str, default: int) -> int:
        return int(self.got.get(kind, default))


def _record_dir(campaign: Campaign, fault: Fault, repeat: int) -> Path:
    if fault.needs == "disk" and campaign.disk is not None:
        campaign.disk.clear()
        base = campaign.disk.directory
    else:
        base = campaign.work_dir / "logs"
    path = base / f"{fault.name}-{repeat}"
    shutil.rmtree(path, ignore_errors=True)
    return path


@contextlib.contextmanager
def _environment(extra: dict[str, str]) -> Any:
    """`extra` in os.environ while the runtime under test is spawned (it inherits it)."""
    saved = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _outlived(pids: set[int]) -> int:
    """How many of `pids` are still alive `OUTLIVE_S` after the run (then killed)."""
    deadline = time.monotonic() + OUTLIVE_S
    while any(process_tree.alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [p for p in pids if process_tree.alive(p)]
    for pid in left:
        with contextlib.suppress(OSError):
            os.kill(pid, 9)
    return len(left)
