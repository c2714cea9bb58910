"""Automatic mixed precision: an INT8 role keeps in float only the layers the gate needs.

`[quantize] auto_mixed = true` in the export config makes `write_bundle` quantize INT8 roles
with `MixedQuantizer` instead of `export.quantize.quantize`: quantize everything once, rank
the layers by sensitivity (`export.sensitivity`), keep the fewest in float that pass the
role's output gate (with a margin) on calibration samples held back from calibrating (the
real gate still judges held-out data afterwards), and write `reports/precision_<role>.json`
and `.png`. It also writes the ONNX Runtime variant (`export.precision_ort`, same float
layers) beside the model, for the backend-aware choice on the device
(`edge_runtime.engines.variant_choice`).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from edge_runtime.bundle.manifest import ActionSpec
from export.accuracy import evaluate_role
from export.config import ExportConfig
from export.onnx_check import GraphIO, load_onnx, validate_onnx
from export.precision_ort import ORT_PRECISION, quantize_int8_ort
from export.precision_report import write_precision_report
from export.qdq_float import keep_float, quantized_layers
from export.quantize import WEIGHTED_OPS, check_tensorrt_qdq, quantize, quantize_int8
from export.samples import Samples
from export.sensitivity import (
    LayerSensitivity,
    choose_float_layers,
    measure_sensitivity,
    output_error,
    run_model,
)

CHECK_SAMPLES = 16  # calibration samples (the last ones) held back to judge the selection
SWEEP_SAMPLES = 4  # of those, what each one-layer sensitivity run sees
MIN_CALIBRATION = 16  # below this many left, calibrate on all and judge in-sample
# The selection is judged on 16 samples, the gate on the held-out set: aim inside the
# thresholds (this fraction of each allowed error) so the gate's verdict agrees.
MARGIN = 0.5
# The ONNX Runtime variant calibrates its QLinearConv activations on at most this many samples:
# a second full calibration pass was a fifth of a 224x224 ResNet's export, and the variant
# still has to pass the gate on held-out data.
ORT_CALIBRATION = 48
INTEGER_OPS = frozenset({"QLinearConv", "MatMulInteger", "DynamicQuantizeMatMul", "QLinearMatMul"})


@dataclass
class MixedPrecisionResult:
    """What the selection measured for one role: the report's content."""

    role: str
    ranked: list[LayerSensitivity]
    float_layers: tuple[str, ...] | None  # None: even every layer in float failed
    error_all_int8: float
    error_chosen: float
    checks: int
    seconds: dict[str, float] = field(default_factory=dict)
    variants: dict[str, float] = field(default_factory=dict)  # extra variant -> its error
    # Measures the ranking when it was skipped (all INT8 passed): a task-gate retry needs it.
    measure_ranking: Callable[[], list[LayerSensitivity]] | None = None

    def sensitivity_ranking(self) -> list[LayerSensitivity]:
        """`ranked`, measured now if the selection skipped the sweep (most sensitive first)."""
        if self.measure_ranking is not None and any(s.error_alone is None for s in self.ranked):
            self.ranked = self.measure_ranking()
        return self.ranked

    def layer_precision(self) -> dict[str, str]:
        kept = set(self.float_layers or ())
        return {s.layer: "fp32" if s.layer in kept else "int8" for s in self.ranked}


class MixedQuantizer:
    """A `quantize_fn` for `run_gate`: INT8 roles get automatic mixed precision."""

    def __init__(self, config: ExportConfig, action: ActionSpec | None = None) -> None:
        self.config = config
        self.action = action
        self.results: dict[str, MixedPrecisionResult] = {}

    def __call__(
        self, fp32_path: Path, out_path: Path, precision: str, calibration: Samples | None = None,
        *options: Any,
    ) -> GraphIO:  # fmt: skip
        """`export.quantize.quantize`'s arguments (options: float_ops, float_nodes,
        float_outputs); only INT8 roles take the mixed-precision path."""
        if precision != "int8" or calibration is None or len(calibration) < 2:
            return quantize(fp32_path, out_path, precision, calibration, *options)
        role = out_path.stem
        with tempfile.TemporaryDirectory(prefix="edgerun-mixed-") as tmp:
            named = with_node_names(fp32_path, Path(tmp))
            result = self.select(role, named, out_path, calibration, *options)
        self.results[role] = result
        write_precision_report(out_path.parent.parent / "reports", result)
        return validate_onnx(out_path)

    def select(
        self,
        role: str,
        fp32_path: Path,
        out_path: Path,
        calibration: Samples,
        *options: Any,
    ) -> MixedPrecisionResult:
        t0 = time.perf_counter()
        count = len(calibration)
        keep = count - CHECK_SAMPLES if count - CHECK_SAMPLES >= MIN_CALIBRATION else count
        fit = Samples({k: v[:keep] for k, v in calibration.arrays.items()})
        quantize_int8(fp32_path, out_path, fit, *options)
        int8_model = load_onnx(out_path)
        feeds = list(calibration.feeds())[-CHECK_SAMPLES:]
        reference = run_model(load_onnx(fp32_path), feeds)
        t1 = time.perf_counter()
        checks: dict[tuple[str, ...], tuple[bool, float]] = {}

        def check(layers: tuple[str, ...]) -> tuple[bool, float]:
            key = tuple(sorted(layers))
            if key not in checks:
                outputs = run_model(keep_float(int8_model, layers), feeds)
                passed = self._gate(role, reference, outputs).passed
                checks[key] = (passed, output_error(reference, outputs))
            return checks[key]

        sweep = {k: v[:SWEEP_SAMPLES] for k, v in reference.items()}

        def measure() -> list[LayerSensitivity]:
            return measure_sensitivity(int8_model, feeds[:SWEEP_SAMPLES], sweep)

        if check(())[0]:
            # All INT8 passes: nothing to choose, so skip the sweep (a session per layer,
            # half the export time of a 224x224 ResNet); the report lists the layers unmeasured.
            ops = {n.name: n.op_type for n in int8_model.graph.node}
            ranked = [LayerSensitivity(name, ops[name], None) for name in quantized_layers(
                int8_model)]  # fmt: skip
        else:
            ranked = measure()
        t2 = time.perf_counter()
        chosen = choose_float_layers(ranked, lambda layers: check(layers)[0])
        forced = self.config.mixed_float_layers.get(role, ())
        if chosen is not None and forced:  # a task-gate retry: these stay float too
            chosen = tuple(dict.fromkeys((*forced, *chosen)))
        if chosen:
            import onnx

            onnx.save(keep_float(int8_model, chosen), str(out_path))
            check_tensorrt_qdq(load_onnx(out_path), str(out_path))
        t3 = time.perf_counter()
        result = MixedPrecisionResult(
            role=role,
            ranked=ranked,
            float_layers=chosen,
            error_all_int8=check(())[1],
            error_chosen=check(chosen or ())[1],
            checks=len(checks),
            measure_ranking=measure,
        )
        self._ort_variant(result, fp32_path, out_path, calibration, reference, feeds)
        t4 = time.perf_counter()
        result.seconds = {"quantize": t1 - t0, "sweep": t2 - t1, "select": t3 - t2,
                          "ort_variant": t4 - t3}  # fmt: skip
        return result

    def _ort_variant(
        self,
        result: MixedPrecisionResult,
        fp32_path: Path,
        out_path: Path,
        calibration: Samples,
        reference: dict[str, Any],
        feeds: Sequence[dict[str, Any]],
    ) -> None:
        """Write `<role>.int8_ort.onnx` beside the model if it passes the same check.

        Everything it can quantize first: its integer ops lose far less than the Q/DQ graph
        (no int8 LayerNorm/Softmax/Add, dynamic activation scales). If that fails, the Q/DQ
        sweep's most sensitive weighted layers stay float, 1, 2, 4, ... of them; a graph left
        with no integer op is no variant at all.
        """
        target = variant_path(out_path, ORT_PRECISION)
        subset = Samples({k: v[:ORT_CALIBRATION] for k, v in calibration.arrays.items()})
        weighted = [s.layer for s in result.ranked if s.op_type in WEIGHTED_OPS]
        ladder = [tuple(weighted[:k]) for k in (0, 1, 2, 4, 8, 16) if k <= len(weighted)]
        for float_layers in dict.fromkeys(ladder):
            quantize_int8_ort(fp32_path, target, subset, float_layers, self.config.float_outputs)
            model = load_onnx(target)
            if not INTEGER_OPS & {n.op_type for n in model.graph.node}:
                break
            outputs = run_model(model, feeds)
            result.variants[ORT_PRECISION] = output_error(reference, outputs)
            # No margin: a variant that then fails on held-out data is only left out
            # (export.precision_gate), it cannot fail the export.
            if self._gate(result.role, reference, outputs, margin=1.0).passed:
                return
        target.unlink()

    def _gate(
        self, role: str, reference: dict[str, Any], outputs: dict[str, Any], margin: float = MARGIN
    ) -> Any:
        """The role's thresholds, each allowed error times `margin` (1.0: the gate's own)."""
        action_role, _, action_name = (self.action.output if self.action else "").partition(".")
        gate = self.config.gate(role)
        tight = replace(
            gate,
            cosine_mean=1 - margin * (1 - gate.cosine_mean),
            cosine_min=1 - margin * (1 - gate.cosine_min),
            action_error=margin * gate.action_error,
            max_abs=None if gate.max_abs is None else margin * gate.max_abs,
        )
        return evaluate_role(
            role,
            "int8",
            reference,
            outputs,
            tight,
            action_output=action_name if role == action_role else None,
            limits_rad=self.action.limits_rad if self.action else (),
        )


def with_node_names(fp32_path: Path, tmp: Path) -> Path:
    """`fp32_path`, or a copy in `tmp` whose unnamed nodes are named `<op>_<index>`.

    Layers are chosen, kept float and excluded by node name: in a hand-built graph every
    unnamed node would be the one layer "". Torch exports name every node, so it is the
    file itself there.
    """
    model = load_onnx(fp32_path)
    if all(node.name for node in model.graph.node):
        return fp32_path
    import onnx

    taken = {node.name for node in model.graph.node}
    for index, node in enumerate(model.graph.node):
        if not node.name:
            node.name = next(n for n in (f"{node.op_type}_{index}", f"{node.op_type}_{index}_")
                             if n not in taken)  # fmt: skip
            taken.add(node.name)
    named = tmp / fp32_path.name
    onnx.save(model, str(named))
    return named


def variant_path(model_path: Path, precision: str) -> Path:
    """`models/<role>.onnx` -> `models/<role>.<precision>.onnx`."""
    return model_path.with_name(f"{model_path.stem}.{precision}.onnx")
