"""`export_module`: any `torch.nn.Module` + example inputs -> one validated ONNX file.

Opset 17, batch 1, constants folded, weights inside the file, the TorchScript exporter
(`dynamo=False`: faster, no onnxscript dependency). torch is imported only here, when exporting.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from export.errors import ExportError
from export.onnx_check import GraphIO, validate_onnx

OPSET = 17


def export_module(
    module: Any,
    example_inputs: Sequence[Any],
    path: str | Path,
    input_names: Sequence[str],
    output_names: Sequence[str],
) -> GraphIO:
    """Export `module` at the shapes of `example_inputs` (batch 1) and validate the file."""
    import torch

    path = Path(path)
    examples = tuple(example_inputs)
    if len(examples) != len(input_names):
        raise ExportError(
            f"{len(examples)} example inputs but {len(input_names)} input names; give one name "
            "per input"
        )
    for name, tensor in zip(input_names, examples):
        if not isinstance(tensor, torch.Tensor) or tensor.dim() == 0 or tensor.shape[0] != 1:
            raise ExportError(
                f"example input '{name}' must be a tensor with batch 1 (shape (1, ...)); bundles "
                "run one observation at a time"
            )
    torch_to_onnx(module, examples, path, input_names, output_names)
    return validate_onnx(path, input_names, output_names)


def torch_to_onnx(
    module: Any,
    examples: tuple[Any, ...],
    path: Path,
    input_names: Sequence[str],
    output_names: Sequence[str],
) -> None:
    """The one `torch.onnx.export` call of the project (settings in the module docstring), in
    eval mode and without gradients; the module's training flag is restored afterwards."""
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    was_training = bool(getattr(module, "training", False))
    module.eval()
    try:
        with torch.no_grad():
            torch.onnx.export(
                module,
                examples,
                str(path),
                input_names=list(input_names),
                output_names=list(output_names),
                opset_version=OPSET,
                do_constant_folding=True,
                dynamo=False,
                external_data=False,
            )
    except (RuntimeError, TypeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ExportError(f"torch.onnx.export failed for {path.name}: {first}") from exc
    finally:
        module.train(was_training)
