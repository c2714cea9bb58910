"""`export_rollout`: the planner's batched rollout graph -> one validated ONNX file.

`export.onnx_export.export_module` insists on batch-1 inputs (every other role runs one
observation at a time); the rollout graph's `candidates` input is a static batch of N chunks
by contract, so that on the Jetson one planner iteration is one TensorRT call. Same exporter
settings otherwise (opset, TorchScript exporter, constants folded, weights inside the file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from export.errors import ExportError
from export.onnx_check import GraphIO, validate_onnx
from export.onnx_export import torch_to_onnx

ROLLOUT_INPUTS = ("latent", "joint_positions", "candidates")
ROLLOUT_OUTPUTS = ("cost",)


def export_rollout(
    rollout: Any, latent_dim: int, joints: int, chunk_length: int, samples: int, path: Path
) -> GraphIO:
    """Export `rollout(latent (1, D), joints (1, J), candidates (N, H, J)) -> cost (N,)`."""
    import torch

    examples = (
        torch.zeros(1, latent_dim),
        torch.zeros(1, joints),
        torch.zeros(samples, chunk_length, joints),
    )
    torch_to_onnx(rollout, examples, path, ROLLOUT_INPUTS, ROLLOUT_OUTPUTS)
    io = validate_onnx(path, ROLLOUT_INPUTS, ROLLOUT_OUTPUTS)
    if io.outputs[0].shape != (samples,):
        raise ExportError(
            f"{path.name}: cost has shape {list(io.outputs[0].shape)}, expected [{samples}]; "
            "the rollout module must return one cost per candidate"
        )
    return io
