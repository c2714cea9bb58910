"""ONNX Runtime sessions for export-time checks: CPU, a fixed thread count, errors as sentences."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.engines.ort_options import session_options
from export.errors import ExportError


def open_session(path: str | Path, threads: int = 1) -> Any:
    """A CPU `InferenceSession` with `threads` intra-op threads (1: the robot's budget)."""
    import onnxruntime as ort

    options = session_options(threads, quiet=True)
    try:
        return ort.InferenceSession(
            str(path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # ORT raises its own Fail/InvalidGraph exception types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ExportError(f"ONNX Runtime cannot load {path}: {first}") from exc


def run(session: Any, feed: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Outputs by name for one feed."""
    names = [o.name for o in session.get_outputs()]
    try:
        values = session.run(names, feed)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ExportError(f"ONNX Runtime failed to run the model: {first}") from exc
    return dict(zip(names, values))
