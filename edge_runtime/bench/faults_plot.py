"""The fault campaign as a picture: torque-off latency of every run, per fault, and outcomes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.bench.faults_summary import MAX_TORQUE_OFF_PERIODS

COLORS = {"survived": "tab:blue", "stopped safely": "tab:green"}  # anything else: red


def plot_faults(result: dict[str, Any], path: str | Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["faults"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8), constrained_layout=True)
    x = np.arange(len(rows))
    for i, row in enumerate(rows):
        for key, marker in (
            ("torque_off_periods", "o"),
            ("torque_off_periods_from_injection", "x"),
        ):
            values = [r[key] for r in row["runs"] if key in r]
            if not values:  # a fault that never stopped the robot
                continue
            jitter = np.linspace(-0.15, 0.15, len(values)) if len(values) > 1 else [0.0]
            left.scatter(i + np.asarray(jitter), values, marker=marker, s=18,
                         color="tab:green" if marker == "o" else "tab:gray")  # fmt: skip
    left.axhline(MAX_TORQUE_OFF_PERIODS, color="tab:red", lw=1, ls="--", label="target")
    left.set_xticks(x, [r["name"] for r in rows], rotation=35, ha="right", fontsize=8)
    left.set_ylabel("control periods to torque off (o: from detection, x: from injection)")
    left.set_title("faults that stop the robot: every run")
    left.legend(fontsize=8)
    bottom = np.zeros(len(rows))
    labels = sorted({k for r in rows for k in r["outcomes"]})
    for label in labels:
        counts = np.array([r["outcomes"].get(label, 0) for r in rows], dtype=float)
        right.bar(x, counts, bottom=bottom, label=label, color=COLORS.get(label, "tab:red"))
        bottom += counts
    right.set_xticks(x, [r["name"] for r in rows], rotation=35, ha="right", fontsize=8)
    right.set_ylabel("runs")
    right.set_title("outcome of every run (red: unsafe, hung or did not start)")
    right.legend(fontsize=8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
