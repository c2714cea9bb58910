"""`reports/precision_<role>.json` and `.png`: each layer's sensitivity and chosen precision.

The JSON is what a reviewer reads to see why a layer stayed float (and what the task gate
hook re-checks); the PNG shows the ranking on a log scale with the kept layers marked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from export.mixed_precision import MixedPrecisionResult

PLOTTED_LAYERS = 40  # the most sensitive; the tail is flat and unreadable


def precision_report_dict(result: MixedPrecisionResult) -> dict[str, Any]:
    precision = result.layer_precision()
    return {
        "role": result.role,
        "passed": result.float_layers is not None,
        "float_layers": list(result.float_layers or ()),
        "layers_total": len(result.ranked),
        "error_all_int8": result.error_all_int8,
        "error_chosen": result.error_chosen,
        "error_metric": "1 - worst output's mean cosine vs FP32 (last calibration samples)",
        "gate_checks": result.checks,
        "variants": result.variants,
        "seconds": result.seconds,
        "layers": [
            {
                "name": s.layer,
                "op": s.op_type,
                "error_alone": s.error_alone,
                "precision": precision[s.layer],
            }
            for s in result.ranked
        ],
    }


def write_precision_report(reports_dir: Path, result: MixedPrecisionResult) -> None:
    reports_dir.mkdir(parents=True, exist_ok=True)
    data = precision_report_dict(result)
    path = reports_dir / f"precision_{result.role}.json"
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    _plot(reports_dir / f"precision_{result.role}.png", data)


def _plot(path: Path, data: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    layers = data["layers"][:PLOTTED_LAYERS]
    fig, ax = plt.subplots(figsize=(11, 4))  # constrained_layout took seconds with 40 labels
    fig.subplots_adjust(bottom=0.4, top=0.92, left=0.07, right=0.99)
    errors = [max(layer["error_alone"] or 0.0, 1e-9) for layer in layers]
    colors = ["tab:orange" if layer["precision"] != "int8" else "tab:blue" for layer in layers]
    ax.bar(range(len(layers)), errors, color=colors)
    ax.set_yscale("log")
    ax.set_xticks(range(len(layers)), [layer["name"][-28:] for layer in layers],
                  rotation=90, fontsize=6)  # fmt: skip
    ax.axhline(max(data["error_all_int8"], 1e-9), color="k", ls="--", lw=1, label="all int8")
    ax.axhline(max(data["error_chosen"], 1e-9), color="tab:green", ls=":", lw=1, label="chosen")
    ax.set_ylabel("1 - cosine, this layer alone in int8")
    kept = len(data["float_layers"])
    ax.set_title(f"{data['role']}: {kept} of {data['layers_total']} layers kept in float "
                 "(orange)")  # fmt: skip
    ax.legend(fontsize=7)
    fig.savefig(path, dpi=90)
    plt.close(fig)
