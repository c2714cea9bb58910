"""`reports/accuracy.json` and `reports/accuracy.png`: what the gate measured, for people and CI.

The task-level gate adds its verdict under "task" (`add_task_report`); its per-episode results
are in `reports/task.json` and `reports/task.png` (export/task_gate.py).

The JSON is the record a reviewer (or `edgerun bench models`) reads back; the PNG shows at a
glance which output is closest to its threshold. matplotlib runs headless (Agg).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from export.accuracy import RoleAccuracy
from export.config import ExportConfig


def write_accuracy_json(
    path: Path,
    results: Sequence[RoleAccuracy],
    config: ExportConfig,
    extra: dict[str, Any] | None = None,
) -> None:
    data: dict[str, Any] = {
        "passed": all(r.passed for r in results),
        "roles": {r.role: r.to_dict() for r in results if not r.role.startswith("pipeline")},
        "pipeline": [r.to_dict() for r in results if r.role.startswith("pipeline")],
        "thresholds": {
            "default": vars(config.gate_default),
            **{role: vars(t) for role, t in config.gate_roles.items()},
        },
    }
    data.update(extra or {})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def add_task_report(path: Path, summary: dict[str, Any]) -> None:
    """The task-level gate's verdict under "task" in accuracy.json: one export report JSON."""
    data = json.loads(path.read_text(encoding="utf-8"))
    data["task"] = summary
    data["passed"] = bool(data.get("passed", True) and summary.get("passed", True))
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def write_accuracy_png(path: Path, results: Sequence[RoleAccuracy], config: ExportConfig) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, means, mins = [], [], []
    for r in results:
        for name, fid in r.outputs.items():
            labels.append(f"{r.role}.{name}\n({r.precision})")
            means.append(fid.cosine_mean)
            mins.append(fid.cosine_min)
    actions = [r for r in results if r.action is not None]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    left, right = axes
    xs = range(len(labels))
    left.bar([x - 0.2 for x in xs], means, width=0.4, label="cosine mean")
    left.bar([x + 0.2 for x in xs], mins, width=0.4, label="cosine min")
    left.axhline(config.gate_default.cosine_mean, color="k", ls="--", lw=1, label="gate (mean)")
    left.set_xticks(list(xs), labels, fontsize=7)
    low = min([*mins, config.gate_default.cosine_min]) if mins else 0.9
    left.set_ylim(max(-1.0, low - 0.01), 1.0005)
    left.set_title("quantized vs FP32 (held-out)")
    left.legend(fontsize=7, loc="lower left")
    for i, r in enumerate(actions):
        assert r.action is not None
        joints = range(len(r.action.per_joint_max))
        width = 0.8 / max(1, len(actions))
        right.bar(
            [j + i * width for j in joints],
            [100 * v for v in r.action.per_joint_max],
            width=width,
            label=r.role,
        )
    if actions:
        limit = 100 * config.gate(actions[0].role.split(":")[0]).action_error
        right.axhline(limit, color="k", ls="--", lw=1, label="gate")
        right.legend(fontsize=7)
    right.set_xlabel("joint")
    right.set_ylabel("max action error, % of joint range")
    right.set_title("action error")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
