"""`log info`: what an episode log holds, as one dict (JSON) plus the series for the timeline.

One pass over the log, frames left compressed. Times are the runtime's monotonic clock (ns),
shown relative to the first record. Loop lateness comes from tick records, inference latency
from chunk records, safety events from event records (and recorder drops, which are faults
too). Damage is skipped by the reader and reported (where, bytes, records), never raised.
"""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.recording.logged_frames import is_primary_frame
from edge_runtime.recording.reader import LogReader

IDENTITY_KEYS = ("robot", "bundle", "config_sha256", "calibration", "camera", "cameras", "edgerun")
WALL_CLOCK_DOMAINS = ("global_time", "system_time")  # RealSense: host wall-clock milliseconds
STAMP_KEYS = {"tick": "start_ns", "frame": "host_ns", "chunk": "t_ns", "event": "t_ns"}
DURATION_KINDS = ("tick", "frame", "event")  # the data a run is made of, on the loop's clock


@dataclass
class Timeline:
    tick_ns: list[int] = field(default_factory=list)
    lateness_ns: list[int] = field(default_factory=list)
    missed: list[int] = field(default_factory=list)
    chunk_ns: list[int] = field(default_factory=list)
    inference_ns: list[int] = field(default_factory=list)
    events: list[tuple[int, str, str]] = field(default_factory=list)
    # The world model's surprise per compared frame: (t_ns, latent score, joint residual rad).
    surprise: list[tuple[int, float, float]] = field(default_factory=list)


def _pcts_us(values: list[int], scale: float = 1e3) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p99": 0.0, "max": 0.0}
    arr = np.asarray(values, dtype=np.float64) / scale
    p50, p99 = np.percentile(arr, [50, 99])
    return {
        "p50": round(float(p50), 1),
        "p99": round(float(p99), 1),
        "max": round(float(arr.max()), 1),
    }


def summarize(path: str | Path) -> tuple[dict[str, Any], Timeline]:
    reader = LogReader(path)
    counts: Counter[str] = Counter()
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    line = Timeline()
    event_kinds: Counter[str] = Counter()
    drops: Counter[str] = Counter()
    start: dict[str, Any] = {}
    stopped = False
    wall_clock_frames: list[tuple[int, float]] = []  # (arrival ns, capture wall ms)
    for rec in reader:
        kind = rec.get("k", "?")
        if kind == "frame" and not is_primary_frame(rec):
            kind = f"frame:{rec['cam']}"  # another camera's stream, with its own rate
        counts[kind] += 1
        stamp = rec.get(STAMP_KEYS.get(rec.get("k", "?"), "t_ns"))
        if isinstance(stamp, int):
            first.setdefault(kind, stamp)
            last[kind] = stamp
        if kind == "tick":
            line.tick_ns.append(rec["start_ns"])
            line.lateness_ns.append(rec["lateness_ns"])
            line.missed.append(rec["missed"])
        elif kind == "chunk":
            line.chunk_ns.append(rec["t_ns"])
            line.inference_ns.append(rec["inference_ns"])
            wm = rec.get("wm") or {}
            if "surprise_latent" in wm:
                line.surprise.append(
                    (rec["t_ns"], wm["surprise_latent"], wm.get("surprise_joints_rad", 0.0))
                )
        elif kind == "event":
            line.events.append((rec["t_ns"], rec["kind"], rec["detail"]))
            event_kinds[rec["kind"]] += 1
        elif kind == "drops":
            drops[rec["lane"]] += rec["count"]
            line.events.append((rec["t_ns"], "recorder_drop", f"{rec['count']} {rec['lane']}"))
            event_kinds["recorder_drop"] += 1
        elif kind == "frame" and rec.get("dev_clock") in WALL_CLOCK_DOMAINS:
            wall_clock_frames.append((rec["host_ns"], rec["dev_ms"]))
        elif kind == "start" and not start:
            start = rec
        elif kind == "stop":
            stopped = True
    report = reader.report
    spans = [k for k in DURATION_KINDS if k in first] or list(first)
    begin = min((first[k] for k in spans), default=0)
    end = max((last[k] for k in spans), default=0)
    streams = {}
    for kind, n in sorted(counts.items()):
        span = (last.get(kind, 0) - first.get(kind, 0)) / 1e9
        streams[kind] = {"count": n, "rate_hz": round((n - 1) / span, 2) if span > 0 else 0.0}
    info = {
        "log": str(path),
        "version": reader.headers[0]["version"] if reader.headers else None,
        "segments": len(report.segments),
        "records": report.records,
        "duration_s": round((end - begin) / 1e9, 3),
        "streams": streams,
        "joints": start.get("joints", []),
        "period_s": start.get("period_s"),
        "lateness_us": _pcts_us(line.lateness_ns),
        "missed_periods": int(sum(line.missed)),
        "inference_ms": _pcts_us(line.inference_ns, 1e6),
        "camera_latency_ms": _camera_latency_ms(start, wall_clock_frames),
        "identity": run_identity_of(start),
        "events": dict(event_kinds),
        "recorder_drops": dict(drops),
        "clean_stop": stopped,
        "corrupt_tail": report.corrupt_tail,
        "damage": {
            "spans": len(report.problems()),
            "bytes_skipped": report.lost_bytes,
            "records_lost": report.lost_records,
        },
        "problems": report.problems(),
        "t0_ns": begin,
    }
    return info, line


def _camera_latency_ms(
    start: dict[str, Any], frames: list[tuple[int, float]]
) -> dict[str, float] | None:
    """Capture (device stamp, host wall clock) to arrival, p50/p99/max; None when unknown.

    Only frames whose device clock is the host's wall clock count; the start record's UTC
    anchor places them on the monotonic clock the arrival stamps use.
    """
    if not frames or "wall_ns" not in start:
        return None
    offset_ns = start["wall_ns"] - start["t_ns"]  # wall = monotonic + offset
    latency = [host_ns - (round(dev_ms * 1e6) - offset_ns) for host_ns, dev_ms in frames]
    return _pcts_us(latency, 1e6)


def run_identity_of(start: dict[str, Any]) -> dict[str, Any]:
    """What ran, from a start record: identity keys, and the UTC start when anchored."""
    identity = {k: start[k] for k in IDENTITY_KEYS if k in start}
    if "wall_ns" in start:
        started = datetime.datetime.fromtimestamp(start["wall_ns"] / 1e9, datetime.timezone.utc)
        identity["started_utc"] = started.isoformat(timespec="milliseconds")
    return identity


def plot_timeline(info: dict[str, Any], line: Timeline, out: str | Path) -> Path:
    """Stacked panels: loop lateness, inference latency, the world model's surprise (when the
    run had a monitor), and safety and world-model events; one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t0 = info["t0_ns"]

    def secs(values: list[int]) -> np.ndarray:
        return (np.asarray(values, dtype=np.float64) - t0) / 1e9

    rows = 4 if line.surprise else 3
    fig, axes = plt.subplots(rows, 1, figsize=(10, 2.3 * rows + 0.5), sharex=True)
    axes[0].plot(secs(line.tick_ns), np.asarray(line.lateness_ns) / 1e3, lw=0.6)
    missed = [t for t, m in zip(line.tick_ns, line.missed) if m]
    if missed:
        axes[0].plot(secs(missed), np.zeros(len(missed)), "rv", label="missed periods")
        axes[0].legend(loc="upper right")
    axes[0].set_ylabel("lateness (µs)")
    axes[0].set_title(f"{Path(info['log']).name}: {info['duration_s']:.1f} s")
    axes[1].plot(secs(line.chunk_ns), np.asarray(line.inference_ns) / 1e6, ".", ms=3)
    axes[1].set_ylabel("inference (ms)")
    if line.surprise:
        t, latent, joints = zip(*line.surprise)
        axes[2].plot(secs(list(t)), latent, ".-", ms=3, lw=0.6, label="latent score")
        twin = axes[2].twinx()
        twin.plot(secs(list(t)), np.asarray(joints) * 1e3, ".-", ms=3, lw=0.6, color="tab:red")
        twin.set_ylabel("joint residual (mrad)", color="tab:red")
        axes[2].set_ylabel("latent surprise")
    events = axes[-1]
    kinds = sorted({k for _, k, _ in line.events})
    for row, kind in enumerate(kinds):
        times = secs([t for t, k, _ in line.events if k == kind])
        events.plot(times, np.full(times.shape, row), "|", ms=12)
    events.set_yticks(range(len(kinds)), kinds)
    events.set_ylim(-1, max(len(kinds), 1))
    events.set_ylabel("events")
    events.set_xlabel("time (s)")
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


def summary_rows(info: dict[str, Any]) -> list[dict[str, str]]:
    """`log info`'s table: one (what, value) row per line a person reads."""

    def slash(values: dict[str, Any]) -> str:
        return "/".join(map(str, values.values()))

    rows: list[tuple[str, Any]] = [
        ("records", info["records"]),
        ("duration (s)", info["duration_s"]),
        *(
            (f"{k} records", f"{v['count']} ({v['rate_hz']} Hz)")
            for k, v in info["streams"].items()
        ),
        ("lateness µs p50/p99/max", slash(info["lateness_us"])),
        ("missed periods", info["missed_periods"]),
        ("inference ms p50/p99/max", slash(info["inference_ms"])),
        ("camera latency ms p50/p99/max", slash(info["camera_latency_ms"] or {}) or "unknown"),
        *identity_rows(info["identity"]),
        ("events", ", ".join(f"{k} {v}" for k, v in info["events"].items()) or "none"),
        ("clean stop", info["clean_stop"]),
        ("corrupt tail", info["corrupt_tail"]),
    ]
    return [{"what": what, "value": str(value)} for what, value in rows]


def identity_rows(identity: dict[str, Any]) -> list[tuple[str, Any]]:
    """What ran, as `log info` rows; "unknown" for logs recorded before identities."""
    bundle = identity.get("bundle") or {}
    rows: list[tuple[str, Any]] = [
        ("started (UTC)", identity.get("started_utc", "unknown")),
        ("edgerun", identity.get("edgerun", "unknown")),
        ("robot config sha256", identity.get("config_sha256") or "unknown"),
    ]
    if bundle:
        rows.append(("bundle", f"{bundle.get('name')} ({bundle.get('exporter') or 'exporter ?'})"))
        rows.append(("bundle manifest sha256", bundle.get("manifest_sha256", "")))
        rows.append(("bundle signed by", bundle.get("key_id") or "unsigned"))
    calibration = identity.get("calibration") or {}
    rows.append(
        ("calibration", ", ".join(f"{k} {v[:12]}" for k, v in calibration.items()) or "none")
    )
    cameras = identity.get("cameras") or []  # multi-camera robots, primary first
    if cameras:
        rows.append(("cameras", ", ".join(f"{c['name']} ({c['role']})" for c in cameras)))
    return rows
