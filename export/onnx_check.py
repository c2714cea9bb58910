"""Validate an ONNX file for a bundle: one file, static batch-1 shapes, TensorRT ops.

Everything the Jetson would reject minutes into `edgerun build` is refused here with one sentence:
a corrupt file, external weight files, a dynamic or batch > 1 dimension, an operator TensorRT
cannot parse, or input/output names that differ from what the manifest promises.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_runtime.bundle.manifest import DTYPES, TensorEntry
from export.errors import ExportError
from export.onnx_ops import unsupported_ops

MIN_OPSET = 13  # per-channel QuantizeLinear/DequantizeLinear (axis) needs opset 13
MAX_OPSET = 20  # the newest opset the TensorRT 10.x parser reads
# Inputs whose axis 0 is a static batch by contract, not the observation batch: the planner's
# candidate chunks (N, H, J) go through the rollout graph in one call per planner iteration.
BATCHED_INPUTS = ("candidates",)


@dataclass(frozen=True)
class GraphIO:
    """Names, static shapes and dtypes of a graph's inputs and outputs (manifest entries)."""

    inputs: tuple[TensorEntry, ...]
    outputs: tuple[TensorEntry, ...]

    @property
    def input_names(self) -> list[str]:
        return [t.name for t in self.inputs]

    @property
    def output_names(self) -> list[str]:
        return [t.name for t in self.outputs]


def load_onnx(path: str | Path) -> Any:
    """`onnx.load` that turns a missing or corrupt file into an `ExportError`."""
    import onnx
    from google.protobuf.message import DecodeError

    path = Path(path)
    if not path.is_file():
        raise ExportError(f"ONNX file {path} does not exist; check the path")
    try:
        return onnx.load(str(path), load_external_data=False)
    except (DecodeError, ValueError, RuntimeError) as exc:
        raise ExportError(f"{path} is not a valid ONNX file ({exc}); re-export the model") from exc


def validate_onnx(
    model_or_path: Any,
    input_names: Sequence[str] | None = None,
    output_names: Sequence[str] | None = None,
    where: str | None = None,
) -> GraphIO:
    """Check a model (path or ModelProto) for the bundle; return its I/O as manifest entries."""
    import onnx

    if isinstance(model_or_path, (str, Path)):
        where = where or str(model_or_path)
        model = load_onnx(model_or_path)
    else:
        model = model_or_path
        where = where or "the ONNX model"
    for init in model.graph.initializer:
        if init.data_location == onnx.TensorProto.EXTERNAL:
            raise ExportError(
                f"{where} keeps weights in external data files; bundles need one self-contained "
                "file (export with external_data=False or onnx.save without external data)"
            )
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid graph"
        raise ExportError(f"{where} fails the ONNX checker ({first}); re-export it") from exc
    opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    if not MIN_OPSET <= opset <= MAX_OPSET:
        raise ExportError(
            f"{where} uses ONNX opset {opset}; TensorRT-safe quantization needs opset "
            f"{MIN_OPSET}-{MAX_OPSET} (export with opset 17)"
        )
    bad = unsupported_ops(model)
    if bad:
        raise ExportError(
            f"{where} uses operators TensorRT 10 cannot build: {', '.join(bad)}; replace them "
            "in the model before export"
        )
    inferred = onnx.shape_inference.infer_shapes(model)
    initializers = {i.name for i in model.graph.initializer}
    inputs = tuple(
        _entry(v, where, "input") for v in model.graph.input if v.name not in initializers
    )
    outputs = tuple(_entry(v, where, "output") for v in inferred.graph.output)
    _match(where, "input", [t.name for t in inputs], input_names)
    _match(where, "output", [t.name for t in outputs], output_names)
    return GraphIO(inputs=inputs, outputs=outputs)


def _entry(value: Any, where: str, kind: str) -> TensorEntry:
    import onnx

    tensor_type = value.type.tensor_type
    dtype = onnx.helper.tensor_dtype_to_np_dtype(tensor_type.elem_type).name
    if dtype not in DTYPES:
        raise ExportError(f"{where}: {kind} '{value.name}' has dtype {dtype}, not one of {DTYPES}")
    if not tensor_type.HasField("shape"):
        raise ExportError(f"{where}: {kind} '{value.name}' has no shape; export with static shapes")
    dims: list[int] = []
    for axis, dim in enumerate(tensor_type.shape.dim):
        if not dim.HasField("dim_value") or dim.dim_value <= 0:
            label = dim.dim_param or "?"
            raise ExportError(
                f"{where}: {kind} '{value.name}' has a dynamic dimension '{label}' at axis "
                f"{axis}; bundles need static shapes with batch 1 (export without dynamic_axes)"
            )
        dims.append(int(dim.dim_value))
    if kind == "input" and dims and dims[0] != 1 and value.name not in BATCHED_INPUTS:
        raise ExportError(
            f"{where}: input '{value.name}' has batch {dims[0]}; bundles run batch 1, so export "
            "with a single example"
        )
    return TensorEntry(name=value.name, shape=tuple(dims), dtype=dtype)


def _match(where: str, kind: str, actual: list[str], expected: Sequence[str] | None) -> None:
    if expected is not None and list(expected) != actual:
        raise ExportError(
            f"{where}: {kind} names {actual} do not match the manifest's {list(expected)}; "
            "rename them at export or fix the manifest"
        )
