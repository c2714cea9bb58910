"""Export and validation: opset 17, batch 1, one file, TensorRT ops; bad graphs refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper

from export.errors import ExportError
from export.onnx_check import validate_onnx
from export.onnx_export import export_module


def _tiny() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))


def test_exp_export_writes_one_static_opset17_file(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    io = export_module(_tiny(), (torch.zeros(1, 6),), path, ["x"], ["y"])
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    assert [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")] == [17]
    assert io.input_names == ["x"]
    assert io.output_names == ["y"]
    assert io.inputs[0].shape == (1, 6)
    assert io.outputs[0].shape == (1, 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]  # no external data
    # Constants folded: no Constant-only subgraphs left feeding the Gemms.
    assert {n.op_type for n in model.graph.node} <= {"Gemm", "Relu"}


def test_exp_export_refuses_batch_two(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="batch 1"):
        export_module(_tiny(), (torch.zeros(2, 6),), tmp_path / "m.onnx", ["x"], ["y"])


def test_exp_validate_refuses_dynamic_batch(tmp_path: Path) -> None:
    path = tmp_path / "dyn.onnx"
    torch.onnx.export(
        _tiny(),
        (torch.zeros(1, 6),),
        str(path),
        input_names=["x"],
        output_names=["y"],
        dynamic_axes={"x": {0: "batch"}},
        dynamo=False,
        opset_version=17,
    )
    with pytest.raises(ExportError, match="dynamic dimension 'batch'"):
        validate_onnx(path)


def _graph_with(op: str, domain: str = "") -> onnx.ModelProto:
    node = helper.make_node(op, ["x"], ["y"], domain=domain)
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )
    opsets = [helper.make_opsetid("", 17)]
    if domain:
        opsets.append(helper.make_opsetid(domain, 1))
    return helper.make_model(graph, opset_imports=opsets)


def test_exp_validate_refuses_unsupported_op(tmp_path: Path) -> None:
    path = tmp_path / "u.onnx"
    onnx.save(_graph_with("Hardmax"), str(path))
    with pytest.raises(ExportError, match="TensorRT 10 cannot build: Hardmax"):
        validate_onnx(path)


def test_exp_validate_refuses_custom_domain(tmp_path: Path) -> None:
    path = tmp_path / "c.onnx"
    onnx.save(_graph_with("FusedThing", "com.example"), str(path))
    with pytest.raises(ExportError, match=r"com\.example::FusedThing"):
        validate_onnx(path)


def test_exp_validate_refuses_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.onnx"
    path.write_bytes(b"\x08\x07garbage" + bytes(range(256)))
    with pytest.raises(ExportError, match=r"not a valid ONNX file|fails the ONNX checker"):
        validate_onnx(path)


def test_exp_validate_refuses_names_not_in_manifest(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    export_module(_tiny(), (torch.zeros(1, 6),), path, ["x"], ["y"])
    with pytest.raises(ExportError, match=r"input names \['x'\] do not match.*\['obs'\]"):
        validate_onnx(path, input_names=["obs"])


def test_exp_validate_refuses_external_data(tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    export_module(_tiny(), (torch.zeros(1, 6),), path, ["x"], ["y"])
    model = onnx.load(str(path))
    onnx.save(model, str(tmp_path / "ext.onnx"), save_as_external_data=True, size_threshold=0)
    with pytest.raises(ExportError, match="external data"):
        validate_onnx(tmp_path / "ext.onnx")


def test_exp_validate_refuses_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="does not exist"):
        validate_onnx(tmp_path / "nope.onnx")


def test_exp_exported_graph_matches_torch(tmp_path: Path) -> None:
    import onnxruntime as ort

    module = _tiny()
    path = tmp_path / "m.onnx"
    export_module(module, (torch.zeros(1, 6),), path, ["x"], ["y"])
    x = np.random.default_rng(0).normal(size=(1, 6)).astype(np.float32)
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    with torch.no_grad():
        want = module(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got[0], want, rtol=1e-5, atol=1e-6)
