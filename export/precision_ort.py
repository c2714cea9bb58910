"""INT8 for ONNX Runtime on CPUs (`int8_ort`): the variant a bundle carries beside TensorRT's.

Why the TensorRT graph (`export.quantize`) is slower than FP32 on ORT CPU, measured on the
real-shape models (docs/perf/mixed-precision.md): on x86 CPUs without VNNI the runtime turns
ORT's Q/DQ fusion off (`engines.ort_options`: its u8*s8 kernels saturate), so the graph computes
in float *plus* every QuantizeLinear/DequantizeLinear pair: 56 Q and 105 DQ nodes in a
4-layer transformer, 2x the FP32 latency at width 64. Even with fusion on, Q/DQ around LayerNorm,
Softmax, GELU and the residual Adds, which ORT has no int8 kernels for, costs more than int8
MatMuls save.

So this variant quantizes only what ORT has fast, exact kernels for, in ORT's own operator
format: Conv as static QLinearConv (in CNNs also the Adds and pools between them) and
MatMul/Gemm as dynamic (per-call activation scale)
integer matmuls, both with *unsigned* 8-bit weights. u8*u8 takes MLAS's widening path, which
cannot saturate on AVX2, while s8 weights with full range lost 1% cosine to saturation here.
Everything else stays float. TensorRT cannot parse these ops (DynamicQuantizeLinear,
MatMulInteger): the manifest lists the variant for the onnxruntime backend only.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from export.errors import ExportError
from export.onnx_check import load_onnx
from export.quantize import _quiet_preprocess_hint, _Reader, output_head_nodes
from export.samples import Samples

ORT_PRECISION = "int8_ort"
STATIC_OPS = ("Conv",)  # QLinearConv: needs calibrated activation scales
# In a pure CNN the residual Adds and the pools stay in u8 between QLinearConvs (QLinearAdd,
# QLinearGlobalAveragePool) instead of a Q/DQ round trip each: 0.79x FP32 instead of 0.87x on
# the 224x224 ResNet. Not in transformers, whose residual stream int8 rounds visibly.
CNN_STATIC_OPS = ("Conv", "Add", "MaxPool", "GlobalAveragePool", "Relu")
DYNAMIC_OPS = ("MatMul", "Gemm")  # MatMulInteger/DynamicQuantizeMatMul: scale per call


def quantize_int8_ort(
    fp32_path: Path,
    out_path: Path,
    calibration: Samples,
    float_layers: Sequence[str] = (),
    float_outputs: bool = True,
) -> Path:
    """Write the `int8_ort` graph of `fp32_path`; `float_layers` (node names) stay float."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_dynamic,
        quantize_static,
    )

    model = load_onnx(fp32_path)
    excluded = list(float_layers) + (output_head_nodes(model) if float_outputs else [])
    ops = {n.op_type for n in model.graph.node}
    static_ops = STATIC_OPS if "LayerNormalization" in ops or "Softmax" in ops else CNN_STATIC_OPS
    has_static = any(n.op_type == "Conv" and n.name not in excluded for n in model.graph.node)
    reader_type = type("SamplesReader", (_Reader, CalibrationDataReader), {})
    with tempfile.TemporaryDirectory(prefix="edgerun-ort-int8-") as tmp, _quiet_preprocess_hint():
        staged = Path(tmp) / "static.onnx"
        try:
            if has_static:
                quantize_static(
                    str(fp32_path),
                    str(staged),
                    reader_type(calibration),
                    quant_format=QuantFormat.QOperator,
                    op_types_to_quantize=list(static_ops),
                    per_channel=False,
                    activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QUInt8,
                    calibrate_method=CalibrationMethod.MinMax,
                    nodes_to_exclude=excluded,
                )
            else:
                shutil.copyfile(fp32_path, staged)
            final = Path(tmp) / out_path.name
            quantize_dynamic(
                str(staged),
                str(final),
                op_types_to_quantize=list(DYNAMIC_OPS),
                per_channel=False,
                weight_type=QuantType.QUInt8,
                nodes_to_exclude=excluded,
            )
        except Exception as exc:  # ORT raises bare Exceptions for graphs it cannot handle
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ExportError(
                f"ONNX Runtime INT8 of {fp32_path.name} failed: {first}; export without "
                "[quantize] auto_mixed or keep the role in fp16"
            ) from exc
        out_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(final), out_path)
    return out_path
