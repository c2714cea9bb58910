"""PNG of loop lateness for `edgerun bench loop --plot`: over time, and as a histogram.

matplotlib is imported here only (Agg backend, no display), so the bench and the runtime
never pay for it unless a plot is asked for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

COLORS = {"baseline": "tab:red", "thread": "tab:orange", "process": "tab:blue"}


def _name(run: dict[str, Any]) -> str:
    isolation = run.get("setup", {}).get("isolation")
    return f"{run['loop']} ({isolation})" if isolation else run["loop"]


def plot_lateness(runs: list[dict[str, Any]], path: str | Path) -> Path:
    """One row per rate: lateness (µs) against time (s) left, log histogram right."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    loaded = [r for r in runs if "_lateness_ns" in r and r.get("step") != "noop"]
    rates = sorted({r["rate_hz"] for r in loaded})
    fig, axes = plt.subplots(len(rates), 2, figsize=(12, 3.6 * len(rates)), squeeze=False)
    for row, rate in enumerate(rates):
        ax_time, ax_hist = axes[row]
        for run in (r for r in loaded if r["rate_hz"] == rate):
            late_us = np.asarray(run["_lateness_ns"], dtype=np.float64) / 1e3
            t_s = np.arange(late_us.size) / rate
            label = (
                f"{_name(run)}: p99 {run['lateness_us']['p99']:.0f} µs, "
                f"max {run['lateness_us']['max']:.0f} µs, missed {run['missed']}"
            )
            color = COLORS.get(run.get("setup", {}).get("isolation", run["loop"]))
            ax_time.plot(t_s, late_us, ".", ms=1.5, color=color, label=label)
            bins = np.logspace(-1, np.log10(max(late_us.max(initial=1.0), 1.0) * 1.1), 80)
            ax_hist.hist(np.maximum(late_us, 0.1), bins=bins, histtype="step", color=color)
        ax_time.set_yscale("symlog", linthresh=10)
        ax_time.set(xlabel="time (s)", ylabel="lateness (µs)", title=f"{rate:g} Hz")
        ax_time.legend(loc="upper right", fontsize=8, markerscale=6)
        ax_hist.set(xscale="log", yscale="log", xlabel="lateness (µs)", ylabel="ticks")
        ax_hist.set_title(f"{rate:g} Hz: lateness histogram")
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
