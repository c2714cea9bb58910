"""`ExportError`: every user mistake the export toolchain can detect, as one sentence, exit 2."""

from __future__ import annotations

from typing import Any

from edge_runtime.errors import EdgeRuntimeError


class ExportError(EdgeRuntimeError):
    """A model, calibration set, config or key given to export, build or verify is unusable."""


class AccuracyGateError(ExportError):
    """The quantized model strays beyond the export config's tolerances (see the report)."""

    exit_code = 3


class TaskGateRefusedError(AccuracyGateError):
    """The task-level gate refused the bundle; `mixed` holds the auto-mixed selections (by
    role) a retry with more layers in float can start from (`export.task_recheck`)."""

    def __init__(self, message: str, mixed: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.mixed = mixed or {}
