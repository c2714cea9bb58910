"""Real-shape models (ResNet, ViT, transformer head) through every export path, small sizes.

Also automatic mixed precision (sensitivity -> fewest float layers -> reports) and the
device's choice among a role's precision variants.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

from edge_runtime.bundle.manifest import ActionSpec, Manifest, Preprocessing
from edge_runtime.bundle.reader import open_bundle
from edge_runtime.engines.variant_choice import choose_variant, role_candidates
from edge_runtime.pipeline.policy import BundlePolicy
from export.bundle_writer import RoleSource, write_bundle
from export.config import ExportConfig
from export.precision_ort import quantize_int8_ort
from export.qdq_float import keep_float, quantized_layers
from export.quantize import check_tensorrt_qdq, quantize
from export.samples import Samples
from export.sensitivity import (
    LayerSensitivity,
    candidate_ladder,
    choose_float_layers,
    output_error,
    recheck_with_judge,
    run_model,
)
from export.verify import verify_bundle

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from real_shape_models import ShapeSizes, export_real_shape, observations

SIZES = ShapeSizes.small()
ACTION = ActionSpec(
    joint_names=tuple(f"j{i}" for i in range(SIZES.joints)),
    limits_rad=tuple((-1.6, 1.6) for _ in range(SIZES.joints)),
    chunk_length=SIZES.chunk,
    dt_s=0.05,
)


@pytest.fixture(scope="module")
def real_shape(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return export_real_shape(tmp_path_factory.mktemp("real_shape"), SIZES)


def _samples(name: str, count: int = 48) -> Samples:
    obs = observations(SIZES, count, seed=3)
    if name == "head":
        rng = np.random.default_rng(4)
        latent = rng.normal(size=(count, 1, SIZES.latent)).astype(np.float32)
        return Samples({"latent": latent, "joints": obs["observation.joint_positions"][:, None]})
    return Samples({"rgb": obs["observation.rgb"][:, None]})


@pytest.mark.parametrize("name", ["resnet", "vit", "head"])
def test_exp_real_shape_models_quantize_every_way(
    real_shape: dict[str, Path], tmp_path: Path, name: str
) -> None:
    samples = _samples(name)
    feeds = list(samples.feeds())[-8:]
    reference = run_model(onnx.load(str(real_shape[name])), feeds)
    ops = {n.op_type for n in onnx.load(str(real_shape[name])).graph.node}
    expected = {"resnet": {"Conv", "Add", "MaxPool"}, "vit": {"LayerNormalization", "Softmax"}}
    assert expected.get(name, {"LayerNormalization", "Erf", "Softmax"}) <= ops
    quantize(real_shape[name], tmp_path / "fp16.onnx", "fp16")
    quantize(real_shape[name], tmp_path / "int8.onnx", "int8", samples, (), (), True)
    assert check_tensorrt_qdq(onnx.load(str(tmp_path / "int8.onnx")), name) > 0
    quantize_int8_ort(real_shape[name], tmp_path / "ort.onnx", samples)
    ort_graph = onnx.load(str(tmp_path / "ort.onnx"))
    assert {"MatMulInteger", "DynamicQuantizeLinear", "QLinearConv"} & {
        n.op_type for n in ort_graph.graph.node
    }
    assert output_error(reference, run_model(onnx.load(str(tmp_path / "fp16.onnx")), feeds)) < 1e-4
    assert output_error(reference, run_model(ort_graph, feeds)) < 1e-3  # cosine > 0.999


def test_exp_keep_float_undoes_quantization_layer_by_layer(
    real_shape: dict[str, Path], tmp_path: Path
) -> None:
    samples = _samples("head")
    quantize(real_shape["head"], tmp_path / "int8.onnx", "int8", samples, (), (), True)
    int8 = onnx.load(str(tmp_path / "int8.onnx"))
    layers = quantized_layers(int8)
    feeds = list(samples.feeds())[:4]
    reference = run_model(onnx.load(str(real_shape["head"])), feeds)
    all_float = keep_float(int8, layers)
    assert not [n for n in all_float.graph.node if n.op_type == "QuantizeLinear"]
    assert output_error(reference, run_model(all_float, feeds)) < 1e-6
    one_back = keep_float(int8, layers[:1])
    assert len(quantized_layers(one_back)) == len(layers) - 1
    check_tensorrt_qdq(one_back, "one layer in float")


def test_exp_choose_float_layers_finds_the_fewest_and_judge_walks_the_ladder() -> None:
    ranked = [LayerSensitivity(f"L{i}", "MatMul", 1.0 / (i + 1)) for i in range(10)]
    needed = {"L0", "L2"}  # the gate passes once both are float, whatever else is
    checked: list[tuple[str, ...]] = []

    def passes(layers: tuple[str, ...]) -> bool:
        checked.append(layers)
        return needed <= set(layers)

    assert choose_float_layers(ranked, passes) == ("L0", "L2")  # L1 pruned
    assert choose_float_layers(ranked, lambda layers: True) == ()
    assert choose_float_layers(ranked, lambda layers: False) is None
    ladder = candidate_ladder(ranked, ("L0", "L2"))
    assert ladder == [("L0", "L2"), ("L0", "L2", "L1"), ("L0", "L2", "L1", "L3")]
    model = onnx.helper.make_model(onnx.helper.make_graph([], "g", [], []))
    judged = recheck_with_judge(model, ladder, lambda layers, graph: "L1" in layers)
    assert judged == ("L0", "L2", "L1")


def test_exp_auto_mixed_bundle_carries_variants_and_reports(
    real_shape: dict[str, Path], tmp_path: Path
) -> None:
    obs = observations(SIZES, 48, seed=5)
    roles = {
        "encoder": RoleSource(real_shape["resnet"], {"rgb": "observation.rgb"}),
        "policy": RoleSource(
            real_shape["head"],
            {"latent": "encoder.latent", "joints": "observation.joint_positions"},
        ),
    }
    config = ExportConfig(precision={"encoder": "int8", "policy": "int8"}, auto_mixed=True)
    data = Samples({k: v[:, None] for k, v in obs.items()})
    result = write_bundle(
        tmp_path / "b", roles, data, Preprocessing(SIZES.image_hw), ACTION, 0.02, config
    )
    reports = tmp_path / "b" / "reports"
    for role in ("encoder", "policy"):
        report = json.loads((reports / f"precision_{role}.json").read_text())
        assert report["passed"]
        assert report["error_chosen"] <= 1 - config.gate(role).cosine_mean
        kept = {layer["name"] for layer in report["layers"] if layer["precision"] == "fp32"}
        assert kept == set(report["float_layers"])
        assert (reports / f"precision_{role}.png").stat().st_size > 0
    manifest = Manifest.from_json((tmp_path / "b" / "manifest.json").read_text())
    assert manifest == result.manifest
    variants = {r: [v.precision for v in s.variants] for r, s in manifest.roles.items()}
    # int8_ort passed the gate; the FP32 original is listed as every INT8 role's baseline.
    assert variants == {"encoder": ["int8_ort", "fp32"], "policy": ["int8_ort", "fp32"]}
    bundle = open_bundle(result.path, development_mode=True)
    candidates = role_candidates(bundle, "policy", "onnxruntime")
    assert [c.precision for c in candidates] == ["int8", "int8_ort", "fp32"]
    assert [c.precision for c in role_candidates(bundle, "policy", "tensorrt")] == ["int8", "fp32"]

    # The device keeps the fastest; stand-in timings make the choice deterministic here.
    timings = {"int8": 3.0, "int8_ort": 1.0, "fp32": 2.0}
    timed: list[str] = []

    def measure(paths: list[Path], spec: object, threads: int) -> list[float]:
        found = []
        for path in paths:
            precision = path.name.split(".")[1] if path.name.count(".") == 2 else "int8"
            found.append("fp32" if path.parent.name == "reference" else precision)
        timed.extend(found)
        return [timings[p] for p in found]

    cache = tmp_path / "cache"
    assert choose_variant(bundle, "policy", "onnxruntime", cache, 1, measure).precision == (
        "int8_ort"
    )
    timings["int8_ort"] = 9.0  # cached: not measured again
    assert choose_variant(bundle, "policy", "onnxruntime", cache, 1, measure).precision == (
        "int8_ort"
    )
    assert len(timed) == 3
    policy = BundlePolicy(bundle, "onnxruntime", engine_cache=str(cache))
    try:
        assert policy.precisions["policy"] == "int8_ort"  # from the cache
        obs_frame = {"observation.rgb": obs["observation.rgb"][:1]}
        values = policy.run({**obs_frame, "observation.joint_positions": data.feed(0)[
            "observation.joint_positions"]})  # fmt: skip
        assert values["policy.actions"].shape == (1, SIZES.chunk, SIZES.joints)
    finally:
        policy.close()
    # `verify` checks every graph the device may choose: one row per role and candidate.
    checks = verify_bundle(bundle, "onnxruntime", cache)
    rows = [(c.role, c.precision, c.against) for c in checks]
    assert rows == [(role, p, "golden" if p == "int8" else "fp32") for role in ("encoder",
                    "policy") for p in ("int8", "int8_ort", "fp32")]  # fmt: skip
    assert all(c.passed for c in checks), [c.failures for c in checks]


def test_exp_auto_mixed_is_an_export_config_switch() -> None:
    from export.config import parse_export_config
    from export.errors import ExportError

    assert not parse_export_config({}, "export.toml").auto_mixed
    assert parse_export_config({"quantize": {"auto_mixed": True}}, "export.toml").auto_mixed
    with pytest.raises(ExportError, match="auto_mixed"):
        parse_export_config({"quantize": {"auto_mixed": "yes"}}, "export.toml")
