"""The world-model benchmark as a picture: success per condition, detection per fault."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


def plot_world_model(result: dict[str, Any], path: str | Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["planner"]["conditions"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.5), constrained_layout=True)
    x = np.arange(len(rows))
    for offset, who in ((-0.2, "policy"), (0.2, "planner")):
        values = [r[f"success_{who}"] or 0.0 for r in rows]
        ci = [r[f"ci95_{who}"] or [v, v] for r, v in zip(rows, values)]
        err = np.array([[v - lo, hi - v] for v, (lo, hi) in zip(values, ci)]).T
        left.bar(x + offset, values, 0.4, yerr=err, capsize=2, label=who)
    left.set_xticks(x, [r["name"] for r in rows], rotation=30, ha="right", fontsize=8)
    left.set_ylim(0, 1.05)
    left.set_ylabel("task success (95% CI)")
    left.set_title("policy alone vs policy + planner, paired episodes")
    left.legend(fontsize=8)
    monitor = result.get("monitor")
    if monitor:
        faults = monitor["faults"]
        names = ["nominal", *(f["name"] for f in faults)]
        stops = [monitor["false_stop_rate_nominal"]] + [
            f["detection_rate"] if f["expects_stop"] else f["stopped_after_onset_rate"]
            for f in faults
        ]
        colors = ["tab:red"] + ["tab:green" if f["expects_stop"] else "tab:red" for f in faults]
        right.bar(np.arange(len(names)), stops, color=colors)
        right.set_xticks(np.arange(len(names)), names, rotation=30, ha="right", fontsize=8)
        right.set_ylim(0, 1.05)
        right.set_ylabel("episodes stopped (green: within 0.5 s of a fault)")
        right.set_title("surprise monitor: false stops (red) and detections (green)")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
