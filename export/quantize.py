"""Per-role precision: INT8 as explicit Q/DQ that TensorRT 10 builds, FP16, or FP32 unchanged.

INT8 uses ONNX Runtime's `quantize_static` with the settings TensorRT accepts: QDQ format,
symmetric int8 activations and weights (zero-point 0), per-channel weights, biases left in float
(an INT32 bias DequantizeLinear is rejected by TensorRT). `check_tensorrt_qdq` re-reads the result
and refuses anything else, so a future ORT default change cannot slip an unbuildable graph through.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from export.errors import ExportError
from export.onnx_check import GraphIO, load_onnx, validate_onnx
from export.samples import Samples

TENSORRT_QDQ_OPTIONS: dict[str, Any] = {
    "ActivationSymmetric": True,
    "WeightSymmetric": True,
    "QuantizeBias": False,
    "AddQDQPairToWeight": True,
    "DedicatedQDQPair": True,
}


def quantize(
    fp32_path: Path,
    out_path: Path,
    precision: str,
    calibration: Samples | None = None,
    float_ops: tuple[str, ...] = (),
    float_nodes: tuple[str, ...] = (),
    float_outputs: bool = False,
) -> GraphIO:
    """Write `out_path` at `precision` (fp32 | fp16 | int8) from a validated FP32 graph.

    `float_ops` / `float_nodes`: op types / node names left unquantized in INT8 graphs (e.g.
    Softmax, whose small probabilities int8 rounds to zero); TensorRT runs them in float
    inside the Q/DQ graph. `float_outputs` also keeps each output's head in float: the last
    weighted layer and the reshapes/elementwise ops after it (see `output_head_nodes`).
    """
    if precision == "fp32":
        if fp32_path.resolve() != out_path.resolve():
            shutil.copyfile(fp32_path, out_path)
        return validate_onnx(out_path)
    if precision == "fp16":
        return convert_fp16(fp32_path, out_path)
    if precision == "int8":
        if calibration is None or len(calibration) == 0:
            raise ExportError(
                f"INT8 for {fp32_path.name} needs calibration data; pass --calibration FILE.npz "
                "or choose fp16"
            )
        return quantize_int8(
            fp32_path, out_path, calibration, float_ops, float_nodes, float_outputs
        )
    raise ExportError(f"precision '{precision}' is not one of int8, fp16, fp32")


class _Reader:
    """The `CalibrationDataReader` protocol over stored samples (one batch-1 feed per call)."""

    def __init__(self, samples: Samples) -> None:
        self._feeds = samples.feeds()

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._feeds, None)

    def __iter__(self) -> _Reader:  # ORT >= 1.17 may iterate the reader
        return self

    def __next__(self) -> dict[str, np.ndarray]:
        feed = self.get_next()
        if feed is None:
            raise StopIteration
        return feed


def quantize_int8(
    fp32_path: Path,
    out_path: Path,
    calibration: Samples,
    float_ops: tuple[str, ...] = (),
    float_nodes: tuple[str, ...] = (),
    float_outputs: bool = False,
) -> GraphIO:
    """Static INT8 Q/DQ with TensorRT's settings, then `check_tensorrt_qdq` on the result."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    reader_type = type("SamplesReader", (_Reader, CalibrationDataReader), {})
    fp32_model = load_onnx(fp32_path)
    keep = set(float_nodes) | (set(output_head_nodes(fp32_model)) if float_outputs else set())
    excluded = [
        n.name for n in fp32_model.graph.node if n.op_type in set(float_ops) or n.name in keep
    ]
    with tempfile.TemporaryDirectory(prefix="edgerun-quant-") as tmp, _quiet_preprocess_hint():
        # ORT writes augmented models and calibration tables beside the output: keep them out of
        # the bundle directory.
        staged = Path(tmp) / out_path.name
        try:
            quantize_static(
                str(fp32_path),
                str(staged),
                reader_type(calibration),
                quant_format=QuantFormat.QDQ,
                per_channel=True,
                activation_type=QuantType.QInt8,
                weight_type=QuantType.QInt8,
                calibrate_method=CalibrationMethod.MinMax,
                nodes_to_exclude=excluded,
                extra_options=dict(TENSORRT_QDQ_OPTIONS),
            )
        except Exception as exc:  # ORT raises bare Exceptions for bad feeds and graphs
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ExportError(f"INT8 quantization of {fp32_path.name} failed: {first}") from exc
        out_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staged), out_path)
    check_tensorrt_qdq(load_onnx(out_path), str(out_path))
    return validate_onnx(out_path)


WEIGHTED_OPS = frozenset({"Conv", "ConvTranspose", "Gemm", "MatMul"})
PASSTHROUGH_OPS = frozenset(
    {"Add", "Sub", "Mul", "Div", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose",
     "Concat", "Identity", "Relu", "Sigmoid", "Tanh", "Clip"}
)  # fmt: skip


def output_head_nodes(model: Any) -> list[str]:
    """Names of the nodes from each graph output back to (and including) the last weighted
    layer. Int8 rounding of an output costs a whole step of that tensor's range on every
    element, and outputs feed other models or the motors; the head is a sliver of the compute.
    """
    producer = {out: node for node in model.graph.node for out in node.output}
    found: list[str] = []
    pending = [o.name for o in model.graph.output]
    seen: set[str] = set()
    while pending:
        node = producer.get(pending.pop())
        if node is None or node.name in seen:
            continue
        seen.add(node.name)
        found.append(node.name)
        if node.op_type in PASSTHROUGH_OPS:
            pending.extend(i for i in node.input if i)
    return found


class _DropHint(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "pre-process" not in record.getMessage()


@contextlib.contextmanager
def _quiet_preprocess_hint() -> Iterator[None]:
    """ORT logs a 'consider pre-processing' hint on the root logger twice per model; our graphs
    come straight from the exporter with constants folded, so the hint is noise for users."""
    hint = _DropHint()
    root = logging.getLogger()
    root.addFilter(hint)
    try:
        yield
    finally:
        root.removeFilter(hint)


def check_tensorrt_qdq(model: Any, where: str) -> int:
    """Refuse Q/DQ TensorRT rejects; return the number of QuantizeLinear nodes found.

    Rules: every zero point is 0 and int8 (symmetric), no DequantizeLinear of an INT32 tensor
    (quantized bias), and at least one Q/DQ pair (else the graph is FP32 in disguise).
    """
    import onnx
    from onnx import numpy_helper

    inits = {i.name: i for i in model.graph.initializer}
    constants = {
        n.output[0]: n.attribute[0].t
        for n in model.graph.node
        if n.op_type == "Constant" and n.attribute
    }
    quantize_count = 0
    for node in model.graph.node:
        if node.op_type not in ("QuantizeLinear", "DequantizeLinear"):
            continue
        quantize_count += node.op_type == "QuantizeLinear"
        if node.op_type == "DequantizeLinear":
            source = inits.get(node.input[0]) or constants.get(node.input[0])
            if source is not None and source.data_type == onnx.TensorProto.INT32:
                raise ExportError(
                    f"{where}: node '{node.name}' dequantizes an INT32 tensor ({node.input[0]}); "
                    "TensorRT rejects quantized biases — quantize with QuantizeBias=False"
                )
        if len(node.input) < 3 or not node.input[2]:
            continue  # no zero point: defaults to uint8 0 for Q; TensorRT needs int8
        zp = inits.get(node.input[2]) or constants.get(node.input[2])
        if zp is None:
            raise ExportError(f"{where}: zero point of '{node.name}' is not a constant")
        if zp.data_type != onnx.TensorProto.INT8:
            raise ExportError(
                f"{where}: '{node.name}' uses {onnx.TensorProto.DataType.Name(zp.data_type)} "
                "zero points; TensorRT needs int8 (QuantType.QInt8)"
            )
        if np.any(numpy_helper.to_array(zp) != 0):
            raise ExportError(
                f"{where}: '{node.name}' has a non-zero zero point; TensorRT needs symmetric "
                "quantization (ActivationSymmetric/WeightSymmetric)"
            )
    if quantize_count == 0:
        raise ExportError(f"{where} has no QuantizeLinear nodes; nothing was quantized")
    return quantize_count


def convert_fp16(fp32_path: Path, out_path: Path) -> GraphIO:
    """FP16 weights and compute with float32 inputs/outputs, so feeds stay unchanged.

    Uses onnxruntime.transformers' converter (ships with onnxruntime; onnxconverter-common
    is not needed). Cast nodes at the graph edges keep the manifest's float32 I/O contract.
    """
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    model = load_onnx(fp32_path)
    try:
        half = convert_float_to_float16(model, keep_io_types=True)
    except Exception as exc:  # the converter raises bare exceptions on odd graphs
        raise ExportError(f"FP16 conversion of {fp32_path.name} failed: {exc}") from exc
    _topological_sort(half.graph)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(half, str(out_path))
    return validate_onnx(out_path)


def _topological_sort(graph: Any) -> None:
    """Reorder nodes so producers come first (the converter appends its input Casts last)."""
    available = {v.name for v in graph.input} | {i.name for i in graph.initializer} | {""}
    pending = list(graph.node)
    ordered = []
    while pending:
        ready = [n for n in pending if all(i in available for i in n.input)]
        if not ready:
            raise ExportError("the FP16 graph has a cycle or a dangling input; export it in FP32")
        for node in ready:
            ordered.append(node)
            available.update(node.output)
        pending = [n for n in pending if n not in ready]
    del graph.node[:]
    graph.node.extend(ordered)
