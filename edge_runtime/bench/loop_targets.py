"""The control-loop targets of issue 2 and the verdict lines `edgerun bench loop` prints.

Targets are for the 2-core dev machine: lateness p99 by control rate, no missed period at
100 Hz, and the runtime's own cost per tick with no I/O and no inference.
"""

from __future__ import annotations

from typing import Any

P99_TARGET_US = {100.0: 300.0, 500.0: 500.0}
OVERHEAD_TARGET_US = 150.0


def verdicts(runs: list[dict[str, Any]]) -> list[str]:
    """One line per target the edgerun runs cover: measured value, target, met or not."""
    lines = []
    for run in runs:
        if run["loop"] != "edgerun":
            continue
        if run.get("step") == "noop":
            value = run["overhead_us_p50"]
            ok = value <= OVERHEAD_TARGET_US
            lines.append(
                f"{'met' if ok else 'NOT met'}: runtime overhead per tick (no I/O, no inference)"
                f" p50 {value} µs (target <= {OVERHEAD_TARGET_US:g})"
            )
            continue
        target = P99_TARGET_US.get(run["rate_hz"])
        if target is not None:
            p99 = run["lateness_us"]["p99"]
            ok = p99 <= target and (run["rate_hz"] != 100.0 or run["missed"] == 0)
            lines.append(
                f"{'met' if ok else 'NOT met'}: {run['rate_hz']:g} Hz lateness p99 {p99} µs "
                f"(target <= {target:g}), missed {run['missed']} in {run['ticks']:,} ticks"
            )
    return lines
