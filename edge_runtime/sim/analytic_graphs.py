"""The analytic reference policy as two ONNX graphs (opset 17, static batch 1).

NOT a trained model: a hand-built stand-in the demo runs until the trained reference bundle
exists. It goes through exactly the same path as a trained bundle (manifest, hashes, ONNX
Runtime or TensorRT, action chunks), which is the point.

* `encoder`: `rgbd` (1, 4, H, W) -> `latent` (1, 4) = [u / W, v / H, depth_m, visible]: the
  centroid of red pixels, their mean depth, and whether at least `min_pixels` were found.
  The graph undoes the manifest's RGB normalisation itself, so the thresholds are in [0, 1].
* `policy`: `latent` (1, 4) + `joint_positions` (1, J) -> `actions` (1, H, J). A cubic
  polynomial in (u, v), fitted at build time by least squares, gives the goal joints; the
  chunk ramps from the current joints to the goal exactly like `expert.ramp_chunk`. When the
  target is not visible the goal is the current position (hold).
"""

from __future__ import annotations

from typing import Any

import numpy as np

OPSET = 17
LATENT = "latent"
LATENT_SIZE = 4
# Monomials of the cubic goal map, as powers of (u, v) after centring and scaling.
POWERS: tuple[tuple[int, int], ...] = (
    (0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2), (3, 0), (2, 1), (1, 2), (0, 3),
)  # fmt: skip


def poly_features(uv: np.ndarray, center: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """(N, 2) normalised centroids -> (N, len(POWERS)) monomials (mirrors the policy graph)."""
    z = (np.asarray(uv, np.float64) - center) / scale
    return np.stack([z[:, 0] ** a * z[:, 1] ** b for a, b in POWERS], axis=1)


class _Graph:
    """A tiny builder: constants and nodes with generated names."""

    def __init__(self) -> None:
        import onnx.helper

        self.h = onnx.helper
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self._n = 0

    def const(self, value: Any, dtype: Any = np.float32) -> str:
        from onnx import numpy_helper

        self._n += 1
        name = f"c{self._n}"
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, op_type: str, *inputs: str, **attrs: Any) -> str:
        self._n += 1
        out = f"{op_type.lower()}{self._n}"
        self.nodes.append(self.h.make_node(op_type, list(inputs), [out], **attrs))
        return out

    def model(self, name: str, inputs: list[Any], outputs: list[Any], result: dict[str, str]):
        for final, produced in result.items():
            self.nodes.append(self.h.make_node("Identity", [produced], [final]))
        graph = self.h.make_graph(self.nodes, name, inputs, outputs, self.inits)
        model = self.h.make_model(
            graph,
            opset_imports=[self.h.make_opsetid("", OPSET)],
            producer_name="edge-runtime analytic-reference (not a trained model)",
        )
        model.ir_version = 8  # readable by every ONNX Runtime and TensorRT 10 parser we target
        import onnx.checker

        onnx.checker.check_model(model, full_check=True)
        return model


def build_encoder(
    height: int,
    width: int,
    rgb_mean: tuple[float, float, float],
    rgb_std: tuple[float, float, float],
    depth_max_m: float,
    min_pixels: int = 3,
) -> Any:
    """Red-blob encoder graph: `rgbd` (1, 4, H, W) -> `latent` (1, 4)."""
    from onnx import TensorProto

    g = _Graph()
    axes_c = g.const([1], np.int64)
    channel = []
    for c in range(4):
        part = g.op("Slice", "rgbd", g.const([c], np.int64), g.const([c + 1], np.int64), axes_c)
        if c < 3:  # back to [0, 1] RGB
            part = g.op("Add", g.op("Mul", part, g.const(rgb_std[c])), g.const(rgb_mean[c]))
        channel.append(part)
    r, gr, b, d = channel
    red = g.op("Greater", r, g.const(0.35))
    low_g = g.op("Less", gr, g.const(0.2))
    low_b = g.op("Less", b, g.const(0.2))
    mask = g.op("Cast", g.op("And", g.op("And", red, low_g), low_b), to=TensorProto.FLOAT)
    hw = g.const([2, 3], np.int64)
    count = g.op("ReduceSum", mask, hw, keepdims=1)  # (1, 1, 1, 1)
    denom = g.op("Max", count, g.const(1.0))
    cols = np.broadcast_to(np.arange(width, dtype=np.float32) / width, (height, width))
    rows = np.broadcast_to(np.arange(height, dtype=np.float32)[:, None] / height, (height, width))

    def masked_mean(values: str) -> str:
        return g.op("Div", g.op("ReduceSum", g.op("Mul", mask, values), hw, keepdims=1), denom)

    u = masked_mean(g.const(cols[None, None]))
    v = masked_mean(g.const(rows[None, None]))
    depth_m = g.op("Mul", masked_mean(d), g.const(depth_max_m))
    visible = g.op("Cast", g.op("Greater", count, g.const(min_pixels - 0.5)), to=TensorProto.FLOAT)
    latent = g.op(
        "Reshape", g.op("Concat", u, v, depth_m, visible, axis=1), g.const([1, 4], np.int64)
    )
    return g.model(
        "analytic_encoder",
        [g.h.make_tensor_value_info("rgbd", TensorProto.FLOAT, [1, 4, height, width])],
        [g.h.make_tensor_value_info(LATENT, TensorProto.FLOAT, [1, LATENT_SIZE])],
        {LATENT: latent},
    )


def build_policy(
    coefficients: np.ndarray,
    center: np.ndarray,
    scale: np.ndarray,
    limits_rad: np.ndarray,
    chunk_length: int,
    dt_s: float,
    max_velocity_rad_s: float,
) -> Any:
    """Goal map + ramp graph: `latent` (1, 4), `joint_positions` (1, J) -> `actions` (1, H, J)."""
    from onnx import TensorProto

    joints = int(coefficients.shape[1])
    g = _Graph()
    axes_1 = g.const([1], np.int64)

    def column(i: int) -> str:
        return g.op("Slice", LATENT, g.const([i], np.int64), g.const([i + 1], np.int64), axes_1)

    u = g.op("Div", g.op("Sub", column(0), g.const(center[0])), g.const(scale[0]))
    v = g.op("Div", g.op("Sub", column(1), g.const(center[1])), g.const(scale[1]))
    visible = column(3)
    ones = g.op("Add", g.op("Mul", u, g.const(0.0)), g.const(1.0))
    monomials = []
    for a, b in POWERS:
        term = ones
        for _ in range(a):
            term = g.op("Mul", term, u)
        for _ in range(b):
            term = g.op("Mul", term, v)
        monomials.append(term)
    features = g.op("Concat", *monomials, axis=1)  # (1, F)
    goal = g.op("MatMul", features, g.const(coefficients))  # (1, J)
    goal = g.op("Min", g.op("Max", goal, g.const(limits_rad[:, 0])), g.const(limits_rad[:, 1]))
    q = "joint_positions"
    delta = g.op("Mul", g.op("Sub", goal, q), visible)  # hold when the target is not seen
    largest = g.op(
        "Max", g.op("ReduceMax", g.op("Abs", delta), axes=[1], keepdims=1), g.const(1e-6)
    )
    reach = max_velocity_rad_s * dt_s * np.arange(1, chunk_length + 1, dtype=np.float32)
    fraction = g.op(
        "Min",
        g.op("Div", g.const(reach.reshape(1, chunk_length, 1)), g.op("Unsqueeze", largest, axes_1)),
        g.const(1.0),
    )  # (1, H, 1)
    actions = g.op(
        "Add",
        g.op("Unsqueeze", q, axes_1),
        g.op("Mul", fraction, g.op("Unsqueeze", delta, axes_1)),
    )
    return g.model(
        "analytic_policy",
        [
            g.h.make_tensor_value_info(LATENT, TensorProto.FLOAT, [1, LATENT_SIZE]),
            g.h.make_tensor_value_info(q, TensorProto.FLOAT, [1, joints]),
        ],
        [g.h.make_tensor_value_info("actions", TensorProto.FLOAT, [1, chunk_length, joints])],
        {"actions": actions},
    )
