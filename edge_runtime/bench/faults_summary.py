"""One row per fault from its runs, the verdicts against issue 13's targets, the table's columns.

Targets (the issue's measured outcome): no unsafe command over all faults; torque off within
2 control periods of the detection for every fault that stops; nothing lost from the log
before its last record; nothing (process, /dev/shm entry) left 5 s after a run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from edge_runtime.bench.faults_catalog import Fault
from edge_runtime.bench.report import percentiles

MAX_TORQUE_OFF_PERIODS = 2.0


def summarize(fault: Fault, runs: Sequence[dict[str, Any]], skipped: str, how: str) -> dict:
    """The JSON row of one fault (`runs` kept under "runs")."""
    outcomes = Counter(r["outcome"] for r in runs)
    if skipped:
        outcome = f"not run: {skipped}"
    elif len(outcomes) == 1:
        outcome = next(iter(outcomes))
    else:
        outcome = ", ".join(f"{k} {n}/{len(runs)}" for k, n in outcomes.most_common())
    return {
        "name": fault.name,
        "what": fault.what + (f" ({how})" if how else ""),
        "repeats": len(runs),
        "outcome": outcome,
        "outcomes": dict(outcomes),
        "expected": list(fault.expected),
        "unsafe_commands": sum(r.get("unsafe_commands", 0) for r in runs),
        "detection": fault.detection,
        "torque_off_periods": _spread(runs, "torque_off_periods"),
        "torque_off_periods_from_injection": _spread(runs, "torque_off_periods_from_injection"),
        "stopped_by": sorted({s for r in runs if r["outcome"] != "survived"
                              for s in r.get("stopped_by", [])}),
        "records_lost": sum(r.get("records_lost", 0) for r in runs),
        "runs_with_watchdog_before_injection": sum(
            1 for r in runs if r.get("watchdog_before_injection")),
        "start_retries": sum(r.get("start_retries", 0) for r in runs),
        "leftover_processes": sum(r.get("leftover_processes", 0) for r in runs),
        "leftover_shm": sum(r.get("leftover_shm", 0) for r in runs),
        "runs": list(runs),
    }  # fmt: skip


def _spread(runs: Sequence[dict[str, Any]], key: str) -> dict[str, float] | None:
    values = [r[key] for r in runs if key in r]
    if not values:
        return None
    spread = percentiles(values)
    return {"p50": spread["p50"], "max": spread["max"]}


def verdicts(rows: Sequence[dict[str, Any]]) -> list[str]:
    """One line per target: met or not, and where not, which faults."""

    def failing(test: Any) -> list[str]:
        return [r["name"] for r in rows if r["repeats"] and test(r)]

    checks = [
        ("0 unsafe commands", failing(lambda r: r["unsafe_commands"])),
        ("every outcome as expected", failing(lambda r: set(r["outcomes"]) - set(r["expected"]))),
        (
            f"torque off <= {MAX_TORQUE_OFF_PERIODS:g} periods after detection",
            failing(lambda r: (r["torque_off_periods"] or {}).get("max", 0)
                    > MAX_TORQUE_OFF_PERIODS),
        ),
        ("0 records lost before the last sync", failing(lambda r: r["records_lost"])),
        ("0 processes left 5 s after a run", failing(lambda r: r["leftover_processes"])),
        ("0 /dev/shm entries left", failing(lambda r: r["leftover_shm"])),
    ]  # fmt: skip
    return [f"{'met' if not bad else 'NOT MET'}: {name}" + (f" ({', '.join(bad)})" if bad else "")
            for name, bad in checks]  # fmt: skip


TABLE_COLUMNS = [
    ("name", "fault"),
    ("repeats", "runs"),
    ("outcome", "outcome"),
    ("unsafe_commands", "unsafe"),
    ("detection", "detected by"),
    ("torque_off_periods.p50", "off p50"),
    ("torque_off_periods.max", "off max"),
    ("torque_off_periods_from_injection.max", "max from inj."),
    ("records_lost", "lost"),
    ("leftover_processes", "procs left"),
]
