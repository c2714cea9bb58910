"""The end-of-run report: a short table for a person, JSON for a machine, a PNG of loop timing."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.pipeline.runtime import RunResult


def run_report(result: RunResult, task: dict[str, Any] | None = None) -> dict[str, Any]:
    summary = result.summary.as_dict()
    return {
        "ticks": summary["ticks"],
        "rate_hz": summary["rate_hz"],
        "lateness_us": summary["lateness_us"],
        "missed": summary["missed"],
        "step_us": summary["step_us"],
        "inference_us": result.inference_us,
        "observation_to_queue_us": result.latency_us,
        "chunks": result.chunks,
        "safety_events": result.safety_counts,
        "bus_errors": result.bus_errors,
        "stop_reason": result.stop_reason,
        "fault": result.fault,
        "task": task or {},
        **result.extra,
    }


def _fmt(value: float) -> str:
    return (
        "-"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else f"{value:,.0f}"
    )


def print_report(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    late, inf, lat = (
        report["lateness_us"],
        report["inference_us"],
        report["observation_to_queue_us"],
    )
    table = Table(title="edgerun run report", show_header=False)
    table.add_column(style="bold")
    table.add_column()
    bundle = report.get("bundle")
    if bundle:
        signer = f"signed by key {bundle['signed_by']}" if bundle["signed_by"] else "unsigned"
        table.add_row("bundle", f"{bundle['exporter'] or bundle['path']} ({signer})")
    table.add_row("ticks", f"{report['ticks']:,} at {report['rate_hz']:g} Hz")
    table.add_row(
        "lateness p50 / p99 / max",
        f"{_fmt(late['p50'])} / {_fmt(late['p99'])} / {_fmt(late['max'])} µs",
    )
    table.add_row("missed periods", str(report["missed"]))
    table.add_row("inference p50 / p99", f"{_fmt(inf['p50'])} / {_fmt(inf['p99'])} µs")
    table.add_row("observation → queue p50 / p99", f"{_fmt(lat['p50'])} / {_fmt(lat['p99'])} µs")
    chunks = report["chunks"]
    table.add_row(
        "chunks",
        f"{chunks['received']} received, {chunks['actions_dropped']} stale actions dropped",
    )
    events = report["safety_events"]
    table.add_row(
        "safety events", ", ".join(f"{k} {v}" for k, v in sorted(events.items())) or "none"
    )
    table.add_row("motor bus errors", str(report["bus_errors"]))
    if cameras := report.get("cameras"):
        table.add_row("camera frame sets", camera_sets_row(cameras))
    if memory := report.get("memory"):
        table.add_row("memory", memory_row(memory))
    for name, value in world_model_rows(report.get("world_model")):
        table.add_row(name, value)
    if report["task"]:
        task = report["task"]
        table.add_row("task", ", ".join(f"{k} {v}" for k, v in task.items()))
    table.add_row("stopped because", report["stop_reason"] or "-")
    if report["fault"]:
        table.add_row("FAULT", f"[red]{report['fault']}[/red]")
    Console().print(table)


def memory_row(memory: dict[str, Any]) -> str:
    """Resident memory of both processes (goals, issue 12: control <= 60 MB, runtime <= 300 MB
    without models; the control process's is locked, which the GPU can never have) and, on a
    Jetson, the GPU memory each engine took."""
    gpu = ", ".join(f"{role} {mb:g} MB" for role, mb in memory.get("gpu_mb", {}).items())
    return (
        f"control {memory['control_rss_mb']:g} MB ({memory['control_locked_mb']:g} MB locked, "
        f"peak {memory['control_peak_rss_mb']:g}), runtime {memory['runtime_rss_mb']:g} MB "
        f"(peak {memory['runtime_peak_rss_mb']:g})" + (f"; GPU {gpu}" if gpu else "")
    )


def camera_sets_row(cameras: dict[str, Any]) -> str:
    """Several cameras: how many frame sets were matched, their capture-time skew against the
    stated tolerance (issue 15), and the frames no set could use."""
    return (
        f"{cameras['sets']:,} sets of {', '.join(cameras['cameras'])}, skew p50 / p99 / max "
        f"{cameras['skew_p50_ms']:g} / {cameras['skew_p99_ms']:g} / {cameras['skew_max_ms']:g} ms "
        f"(tolerance {cameras['tolerance_ms']:g} ms), {cameras['frames_unused']} frames unused"
    )


def world_model_rows(summary: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The world model's lines in the run report (none without a world model)."""
    if not summary:
        return []
    rows = []
    monitor = summary.get("monitor")
    if monitor:
        rows.append((
            "surprise monitor",
            f"{monitor['compared']} steps compared ({monitor['skipped']} skipped), "
            f"{monitor['warnings']} warnings, max latent {monitor['max_latent_score']}, "
            f"max joint residual {monitor['max_joint_residual_rad']} rad",
        ))  # fmt: skip
    planner = summary.get("planner")
    if planner:
        ms = planner["plan_ms"]
        rows.append((
            "planner",
            f"{planner['plans']} plans, {100 * planner['override_rate']:.0f}% replaced the "
            f"policy's chunk, plan p50 / p99 {ms['p50']} / {ms['p99']} ms",
        ))  # fmt: skip
    return rows


def write_report_json(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, default=float) + "\n")


def plot_loop_timing(result: RunResult, path: Path, title: str = "control loop timing") -> Path:
    """Lateness per tick over time, and its distribution, with the period for scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    summary = result.summary
    lateness_us = summary.lateness_ns() / 1e3
    step_us = summary.step_ns() / 1e3
    period_us = summary.period_ns / 1e3
    fig, (ax_time, ax_hist) = plt.subplots(1, 2, figsize=(11, 4), width_ratios=[2, 1])
    ticks = np.arange(len(lateness_us))
    ax_time.plot(ticks, lateness_us, lw=0.6, label="lateness")
    ax_time.plot(ticks, step_us, lw=0.6, alpha=0.7, label="step duration")
    ax_time.axhline(period_us, color="red", ls="--", lw=0.8, label=f"period {period_us:.0f} µs")
    ax_time.set_yscale("symlog", linthresh=10)
    ax_time.set_ylim(bottom=0)
    ax_time.set_xlabel("tick")
    ax_time.set_ylabel("µs")
    ax_time.legend(loc="upper right", fontsize=8)
    ax_time.set_title(title)
    if len(lateness_us):
        ax_hist.hist(lateness_us, bins=60, color="tab:blue")
        p99 = float(np.percentile(lateness_us, 99))
        ax_hist.axvline(p99, color="black", ls=":", label=f"p99 {p99:.0f} µs")
        ax_hist.legend(fontsize=8)
    ax_hist.set_xlabel("lateness (µs)")
    ax_hist.set_ylabel("ticks")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
