"""PNG reports a field engineer can glance at: per-view error, residual cloud, hand-eye spread.

Matplotlib's Agg backend only (no display on the robot laptop's SSH session); files are
written atomically like the artifacts.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from edge_runtime.calibration_artifacts.artifact import write_atomic

if TYPE_CHECKING:
    from calibration.handeye import HandEyeResult
    from calibration.intrinsics import IntrinsicsResult


def _save(fig: Any, path: Path) -> Path:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    write_atomic(path, buffer.getvalue())
    return path


def intrinsics_png(result: IntrinsicsResult, path: Path) -> Path:
    """Per-view RMS bars (rejected views in red) and the residual scatter of used corners."""
    from matplotlib.figure import Figure

    views = result.views
    fig = Figure(figsize=(11, 4))
    bars, scatter = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2, 1]})
    names = [v.name for v in views]
    errors = [0.0 if np.isnan(v.rms_px) else v.rms_px for v in views]
    colors = ["tab:blue" if v.used else "tab:red" for v in views]
    bars.bar(range(len(views)), errors, color=colors)
    bars.axhline(result.rms_px, color="black", linestyle="--", label="overall RMS")
    bars.set_xticks(range(len(views)), names, rotation=90, fontsize=6)
    bars.set_ylabel("reprojection RMS (px)")
    bars.set_title("per-view error (red: rejected)")
    bars.legend()
    residuals = result.residuals_px
    scatter.scatter(residuals[:, 0], residuals[:, 1], s=2, alpha=0.4)
    limit = max(0.5, float(np.abs(residuals).max()) * 1.1)
    scatter.set_xlim(-limit, limit)
    scatter.set_ylim(-limit, limit)
    scatter.set_aspect("equal")
    scatter.set_xlabel("du (px)")
    scatter.set_ylabel("dv (px)")
    scatter.set_title("corner residuals")
    fig.tight_layout()
    return _save(fig, path)


def handeye_png(result: HandEyeResult, path: Path) -> Path:
    """Per-pose translation/rotation residual of the chosen method, and every method's totals."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4))
    per_pose, methods = fig.subplots(1, 2)
    t_mm = result.per_pose_mm
    r_deg = result.per_pose_deg
    index = np.arange(len(t_mm))
    per_pose.bar(index - 0.2, t_mm, width=0.4, label="translation (mm)")
    twin = per_pose.twinx()
    twin.bar(index + 0.2, r_deg, width=0.4, color="tab:orange", label="rotation (deg)")
    per_pose.set_xlabel("pose pair")
    per_pose.set_ylabel("mm")
    twin.set_ylabel("deg")
    per_pose.set_title(f"AX=XB residuals, {result.method}")
    scores = result.methods
    names = list(scores)
    methods.bar(names, [scores[n]["translation_mm"] for n in names])
    methods.set_ylabel("translation residual (mm)")
    methods.set_title("every OpenCV method")
    fig.tight_layout()
    return _save(fig, path)
