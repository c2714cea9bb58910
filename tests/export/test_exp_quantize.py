"""INT8 Q/DQ that TensorRT accepts, FP16 with float32 I/O, and the checks that refuse the rest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from export.errors import ExportError
from export.onnx_check import load_onnx
from export.quantize import check_tensorrt_qdq, quantize
from export.samples import Samples


def _policy_samples(n: int = 24) -> Samples:
    rng = np.random.default_rng(1)
    return Samples(
        {
            "latent": rng.normal(size=(n, 1, 8)).astype(np.float32),
            "joints": rng.uniform(-1, 1, (n, 1, 3)).astype(np.float32),
        }
    )


def _run(path: Path, feed: dict[str, np.ndarray]) -> np.ndarray:
    from export.ort_session import open_session

    return open_session(path).run(None, feed)[0]


def test_exp_int8_is_symmetric_per_channel_without_int32_bias(
    tiny_onnx: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "q.onnx"
    samples = _policy_samples()
    quantize(tiny_onnx["policy"], out, "int8", samples)
    model = onnx.load(str(out))
    inits = {i.name: i for i in model.graph.initializer}
    assert check_tensorrt_qdq(model, "q") > 0
    dq = [n for n in model.graph.node if n.op_type == "DequantizeLinear"]
    for node in dq:
        zp = numpy_helper.to_array(inits[node.input[2]])
        assert zp.dtype == np.int8
        assert not zp.any()
        src = inits.get(node.input[0])
        assert src is None or src.data_type != onnx.TensorProto.INT32
    # AddQDQPairToWeight: weights stay float and pass through a Q/DQ pair TensorRT folds.
    weight_q = [
        n
        for n in model.graph.node
        if n.op_type == "QuantizeLinear" and n.input[0] in inits and len(inits[n.input[0]].dims) > 1
    ]
    assert weight_q, "weights must be quantized through explicit Q/DQ"
    for node in weight_q:
        scale = numpy_helper.to_array(inits[node.input[1]])
        assert scale.size == inits[node.input[0]].dims[0], "one scale per output channel"
    feed = samples.feed(0)
    np.testing.assert_allclose(_run(out, feed), _run(tiny_onnx["policy"], feed), atol=0.05)


def test_exp_int8_needs_calibration(tiny_onnx: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="needs calibration data"):
        quantize(tiny_onnx["policy"], tmp_path / "q.onnx", "int8", None)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"ActivationSymmetric": False, "WeightSymmetric": True, "QuantizeBias": False},
            "non-zero zero point|UINT8",
        ),
        (
            {"ActivationSymmetric": True, "WeightSymmetric": True, "QuantizeBias": True},
            "INT32",
        ),
    ],
)
def test_exp_check_refuses_what_tensorrt_rejects(
    tiny_onnx: dict[str, Path], tmp_path: Path, options: dict[str, bool], message: str
) -> None:
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static

    from export.quantize import _Reader

    class Reader(_Reader):
        pass

    out = tmp_path / "bad.onnx"
    activation = QuantType.QUInt8 if not options["ActivationSymmetric"] else QuantType.QInt8
    quantize_static(
        str(tiny_onnx["policy"]),
        str(out),
        Reader(_policy_samples()),  # type: ignore[arg-type]
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=activation,
        weight_type=QuantType.QInt8,
        extra_options=options,
    )
    with pytest.raises(ExportError, match=message):
        check_tensorrt_qdq(load_onnx(out), str(out))


def test_exp_check_refuses_unquantized_graph(tiny_onnx: dict[str, Path]) -> None:
    with pytest.raises(ExportError, match="no QuantizeLinear"):
        check_tensorrt_qdq(load_onnx(tiny_onnx["policy"]), "fp32 graph")


def test_exp_fp16_keeps_float32_io(tiny_onnx: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "h.onnx"
    io = quantize(tiny_onnx["encoder"], out, "fp16")
    assert {t.dtype for t in (*io.inputs, *io.outputs)} == {"float32"}
    model = onnx.load(str(out))
    weights = [i for i in model.graph.initializer if len(i.dims) > 1]
    assert weights
    assert all(w.data_type == onnx.TensorProto.FLOAT16 for w in weights)
    x = np.random.default_rng(2).random((1, 4, 16, 16), dtype=np.float32)
    np.testing.assert_allclose(
        _run(out, {"rgbd": x}), _run(tiny_onnx["encoder"], {"rgbd": x}), atol=5e-3
    )


def test_exp_unknown_precision(tiny_onnx: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="not one of int8, fp16, fp32"):
        quantize(tiny_onnx["policy"], tmp_path / "x.onnx", "int4")


def test_exp_float_outputs_keeps_the_head_in_float(
    tiny_onnx: dict[str, Path], tmp_path: Path
) -> None:
    from export.quantize import output_head_nodes

    model = load_onnx(tiny_onnx["policy"])
    head = output_head_nodes(model)
    ops = {n.name: n.op_type for n in model.graph.node}
    assert [ops[n] for n in head if ops[n] != "Constant"] == ["Reshape", "Gemm"]
    out = tmp_path / "q.onnx"
    quantize(tiny_onnx["policy"], out, "int8", _policy_samples(), float_outputs=True)
    quantized = onnx.load(str(out))
    # The last Gemm reads float weights directly and its output is not re-quantized.
    last = next(n for n in quantized.graph.node if n.name in head and n.op_type == "Gemm")
    producers = {o: n.op_type for n in quantized.graph.node for o in n.output}
    assert producers.get(last.input[1]) != "DequantizeLinear"
    consumers = [n.op_type for n in quantized.graph.node if last.output[0] in n.input]
    assert "QuantizeLinear" not in consumers
    assert check_tensorrt_qdq(quantized, "q") > 0  # the body is still int8
