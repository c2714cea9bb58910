"""The ONNX operators the TensorRT 10.x ONNX parser builds, so export refuses a graph early.

An operator TensorRT cannot parse is only discovered on the Jetson, minutes into `edgerun build`;
checking here turns that into one sentence on the workstation. The list is conservative: ops the
parser supports in the default domain for opsets 9-20 (onnx-tensorrt `docs/operators.md`, 10.x).
"""

from __future__ import annotations

_OPS_TEXT = """
    Abs Acos Acosh Add And ArgMax ArgMin Asin Asinh Atan Atanh AveragePool BatchNormalization
    Cast CastLike Ceil Celu Clip Concat Constant ConstantOfShape Conv ConvTranspose Cos Cosh CumSum
    DepthToSpace DequantizeLinear Div Dropout Einsum Elu Equal Erf Exp Expand EyeLike Flatten Floor
    Gather GatherElements GatherND Gelu Gemm GlobalAveragePool GlobalLpPool GlobalMaxPool Greater
    GreaterOrEqual GridSample GroupNormalization GRU HardSigmoid HardSwish Identity If ImageScaler
    InstanceNormalization IsInf IsNaN LayerNormalization LeakyRelu Less LessOrEqual Log LogSoftmax
    Loop LpNormalization LpPool LRN LSTM MatMul Max MaxPool Mean Min Mish Mod Mul Neg NonZero Not
    OneHot Or Pad ParametricSoftplus Pow PRelu QuantizeLinear RandomUniform RandomUniformLike Range
    Reciprocal ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean ReduceMin
    ReduceProd ReduceSum ReduceSumSquare Relu Reshape Resize ReverseSequence RNN Round ScaledTanh
    Scan Scatter ScatterElements ScatterND Selu Shape Sigmoid Sign Sin Sinh Size Slice Softmax
    Softplus Softsign SpaceToDepth Split Sqrt Squeeze Sub Sum Tan Tanh ThresholdedRelu Tile TopK
    Transpose Trilu Unsqueeze Upsample Where Xor
"""
TENSORRT_OPS: frozenset[str] = frozenset(_OPS_TEXT.split())

DEFAULT_DOMAINS = ("", "ai.onnx")


def unsupported_ops(model: object) -> list[str]:
    """Sorted `domain::op` names in `model` (an onnx.ModelProto) that TensorRT cannot parse."""
    bad: set[str] = set()
    for graph in _graphs(model.graph):  # type: ignore[attr-defined]
        for node in graph.node:
            if node.domain not in DEFAULT_DOMAINS:
                bad.add(f"{node.domain}::{node.op_type}")
            elif node.op_type not in TENSORRT_OPS:
                bad.add(node.op_type)
    return sorted(bad)


def _graphs(graph: object) -> list[object]:
    """The graph and every subgraph (If/Loop/Scan bodies), depth first."""
    found = [graph]
    for node in graph.node:  # type: ignore[attr-defined]
        for attr in node.attribute:
            if attr.g is not None and attr.g.node:
                found.extend(_graphs(attr.g))
            for sub in attr.graphs:
                found.extend(_graphs(sub))
    return found
