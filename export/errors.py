"""`ExportError`: every user mistake the export toolchain can detect, as one sentence, exit 2."""

from __future__ import annotations

from edge_runtime.errors import EdgeRuntimeError


class ExportError(EdgeRuntimeError):
    """A model, calibration set, config or key given to export, build or verify is unusable."""


class AccuracyGateError(ExportError):
    """The quantized model strays beyond the export config's tolerances (see the report)."""

    exit_code = 3
