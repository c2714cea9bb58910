"""Small real ONNX graphs standing in for a bundle's world-model roles in runtime tests.

The rollout graph scores each candidate chunk by its squared distance to a goal posture
(weighted over the first 15 actions, like the reference graph's 3 x 5-action steps), so the
best chunk is known in closed form and a planner's progress can be checked.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_runtime.bundle.manifest import RoleSpec, TensorEntry
from edge_runtime.engines.onnxruntime_engine import OnnxRuntimeEngine

N, H, J, D = 32, 16, 4, 4
GOAL = np.array([0.3, -0.2, 0.1, 0.2], dtype=np.float32)
# The tiny runtime bundle's encoder output (tests/edge_runtime/runtime_bundles.py).
LATENT_SOURCE = "encoder.latent4"


def save_graph(graph: object, path: Path) -> None:
    import onnx
    from onnx import helper

    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))


def write_rollout(path: Path) -> RoleSpec:
    from onnx import TensorProto, helper, numpy_helper

    weights = np.zeros((1, H, 1), np.float32)
    weights[0, :15] = 1.0 / 15
    nodes = [
        helper.make_node("Sub", ["candidates", "goal"], ["diff"]),
        helper.make_node("Mul", ["diff", "diff"], ["sq"]),
        helper.make_node("Mul", ["sq", "weights"], ["weighted"]),
        helper.make_node("ReduceSum", ["weighted", "axes"], ["cost"], keepdims=0),
    ]
    graph = helper.make_graph(
        nodes,
        "rollout",
        [
            helper.make_tensor_value_info("latent", TensorProto.FLOAT, [1, D]),
            helper.make_tensor_value_info("joint_positions", TensorProto.FLOAT, [1, J]),
            helper.make_tensor_value_info("candidates", TensorProto.FLOAT, [N, H, J]),
        ],
        [helper.make_tensor_value_info("cost", TensorProto.FLOAT, [N])],
        initializer=[
            numpy_helper.from_array(GOAL.reshape(1, 1, J), "goal"),
            numpy_helper.from_array(weights, "weights"),
            numpy_helper.from_array(np.array([1, 2], np.int64), "axes"),
        ],
    )
    save_graph(graph, path)
    return RoleSpec(
        file=path.name,
        precision="fp32",
        inputs=(
            TensorEntry("latent", (1, D), source=LATENT_SOURCE),
            TensorEntry("joint_positions", (1, J), source="observation.joint_positions"),
            TensorEntry("candidates", (N, H, J), source="planner.candidates"),
        ),
        outputs=(TensorEntry("cost", (N,)),),
    )


def rollout_engine(tmp_path: Path) -> tuple[OnnxRuntimeEngine, RoleSpec]:
    spec = write_rollout(tmp_path / "rollout.onnx")
    return OnnxRuntimeEngine(tmp_path / "rollout.onnx"), spec


K = 5


def write_predictor(path: Path) -> RoleSpec:
    """next_latent = latent (a still scene); next joints = the last executed target (a servo
    that always arrives): what a nominal world does, so surprises are easy to stage."""
    from onnx import TensorProto, helper, numpy_helper

    nodes = [
        helper.make_node("Identity", ["latent"], ["next_latent"]),
        helper.make_node("Gather", ["actions", "last"], ["next_joint_positions"], axis=1),
    ]
    graph = helper.make_graph(
        nodes,
        "predictor",
        [
            helper.make_tensor_value_info("latent", TensorProto.FLOAT, [1, D]),
            helper.make_tensor_value_info("joint_positions", TensorProto.FLOAT, [1, J]),
            helper.make_tensor_value_info("actions", TensorProto.FLOAT, [1, K, J]),
        ],
        [
            helper.make_tensor_value_info("next_latent", TensorProto.FLOAT, [1, D]),
            helper.make_tensor_value_info("next_joint_positions", TensorProto.FLOAT, [1, J]),
        ],
        initializer=[numpy_helper.from_array(np.array(K - 1, np.int64), "last")],
    )
    save_graph(graph, path)
    return RoleSpec(
        file=path.name,
        precision="fp32",
        inputs=(
            TensorEntry("latent", (1, D), source=LATENT_SOURCE),
            TensorEntry("joint_positions", (1, J), source="observation.joint_positions"),
            TensorEntry("actions", (1, K, J), source="observation.executed_actions"),
        ),
        outputs=(
            TensorEntry("next_latent", (1, D)),
            TensorEntry("next_joint_positions", (1, J)),
        ),
    )


def predictor_engine(tmp_path: Path) -> tuple[OnnxRuntimeEngine, RoleSpec]:
    spec = write_predictor(tmp_path / "predictor.onnx")
    return OnnxRuntimeEngine(tmp_path / "predictor.onnx"), spec
