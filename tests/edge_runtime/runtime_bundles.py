"""A tiny two-role bundle built with onnx.helper, for runtime tests (a module of its own,
not conftest, so `import` finds it whichever package's conftest pytest loaded first)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_runtime.bundle.manifest import ActionSpec, Manifest, Preprocessing, RoleSpec, TensorEntry
from edge_runtime.bundle.reader import sha256_file
from edge_runtime.sensors.base import Frame, Intrinsics

H, W, J, CHUNK = 8, 8, 3, 4


def _save(model: object, path: Path) -> None:
    import onnx

    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def _encoder(path: Path) -> None:
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("ReduceMean", ["rgbd"], ["latent4"], axes=[2, 3], keepdims=0)],
        "encoder",
        [helper.make_tensor_value_info("rgbd", TensorProto.FLOAT, [1, 4, H, W])],
        [helper.make_tensor_value_info("latent4", TensorProto.FLOAT, [1, 4])],
    )
    _save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9), path)


def _policy(path: Path, J: int = J) -> None:
    """actions[k] = joints + (k+1) * 0.01 * sum(latent): a chunk moving away from the state."""
    from onnx import TensorProto, helper, numpy_helper

    steps = numpy_helper.from_array(
        (0.01 * np.arange(1, CHUNK + 1, dtype=np.float32)).reshape(1, CHUNK, 1), "steps"
    )
    shape = numpy_helper.from_array(np.array([1, 1, J], dtype=np.int64), "shape")
    nodes = [
        helper.make_node("ReduceSum", ["latent4"], ["s"], keepdims=1),  # (1, 1)
        helper.make_node("Reshape", ["joints", "shape"], ["j3"]),  # (1, 1, J)
        helper.make_node("Unsqueeze", ["s", "axis"], ["s3"]),  # (1, 1, 1)
        helper.make_node("Mul", ["steps", "s3"], ["offsets"]),  # (1, CHUNK, 1)
        helper.make_node("Add", ["j3", "offsets"], ["actions"]),  # (1, CHUNK, J)
    ]
    axis = numpy_helper.from_array(np.array([2], dtype=np.int64), "axis")
    graph = helper.make_graph(
        nodes,
        "policy",
        [
            helper.make_tensor_value_info("latent4", TensorProto.FLOAT, [1, 4]),
            helper.make_tensor_value_info("joints", TensorProto.FLOAT, [1, J]),
        ],
        [helper.make_tensor_value_info("actions", TensorProto.FLOAT, [1, CHUNK, J])],
        initializer=[steps, shape, axis],
    )
    _save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9), path)


def write_tiny_bundle(root: Path, joint_names: tuple[str, ...] = ("a", "b", "c")) -> Path:
    """Encoder: mean of each RGB-D channel; policy: a chunk stepping away from the joints."""
    J = len(joint_names)
    _encoder(root / "models/encoder.onnx")
    _policy(root / "models/policy.onnx", J)
    roles = {
        "encoder": RoleSpec(
            file="models/encoder.onnx",
            precision="fp32",
            inputs=(TensorEntry("rgbd", (1, 4, H, W), source="observation.rgbd"),),
            outputs=(TensorEntry("latent4", (1, 4)),),
        ),
        "policy": RoleSpec(
            file="models/policy.onnx",
            precision="fp32",
            inputs=(
                TensorEntry("latent4", (1, 4), source="encoder.latent4"),
                TensorEntry("joints", (1, J), source="observation.joint_positions"),
            ),
            outputs=(TensorEntry("actions", (1, CHUNK, J)),),
        ),
    }
    files = {rel: sha256_file(root / rel) for rel in ("models/encoder.onnx", "models/policy.onnx")}
    manifest = Manifest(
        roles=roles,
        preprocessing=Preprocessing(image_size=(H, W)),
        action=ActionSpec(
            joint_names=tuple(joint_names),
            limits_rad=((-1.0, 1.0),) * J,
            chunk_length=CHUNK,
            dt_s=0.02,
        ),
        control_period_s=0.01,
        files=files,
        exporter={"name": "test"},
    )
    (root / "manifest.json").write_text(manifest.to_json())
    return root


def frozen_camera_robot(tmp_path: Path, *edits: tuple[str, str]) -> Path:
    """The sim arm's robot.toml with the tiny bundle and a camera that delivers one frame a
    second (plans go stale, so the run ends in a safety stop), plus `edits` (old, new)."""
    from importlib import resources

    from edge_runtime.sim.world import JOINT_NAMES

    text = resources.files("edge_runtime.sim").joinpath("robot.toml").read_text()
    for old, new in (("fps = 30", "fps = 1"), ('bundle = ""', 'bundle = "bundle"'), *edits):
        assert old in text
        text = text.replace(old, new)
    write_tiny_bundle(tmp_path / "bundle", JOINT_NAMES)
    (tmp_path / "robot.toml").write_text(text)
    return tmp_path / "robot.toml"


def random_frame() -> Frame:
    """One 64x48 RGB-D frame of seeded noise."""
    rng = np.random.default_rng(0)
    return Frame(
        color=rng.integers(0, 255, (48, 64, 3), dtype=np.uint8),
        depth=rng.integers(300, 2000, (48, 64), dtype=np.uint16),
        depth_scale_m=0.001,
        intrinsics=Intrinsics(64, 48, 50.0, 50.0, 32.0, 24.0),
        device_time_ms=0.0,
        host_time_ns=0,
        frame_number=0,
    )
