"""Write a bundle: quantize each role, gate it against FP32, add golden data, hash, sign.

The bundle is assembled in a staging directory and moved into place only when the accuracy gate
passes, so a failed export never leaves something that looks loadable: on failure only
`reports/` is written to the output directory (to show why), and `AccuracyGateError` is raised.
"""

from __future__ import annotations

import datetime as _dt
import shutil
import tarfile
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime import __version__
from edge_runtime.bundle.manifest import (
    FP32_REFERENCE,
    ActionSpec,
    Manifest,
    Preprocessing,
    RoleSpec,
    TensorEntry,
)
from edge_runtime.bundle.reader import MANIFEST, SIGNATURE
from edge_runtime.bundle.signing import key_id, load_private_key, sign_manifest
from edge_runtime.bundle.world_model import WorldModelSpec
from edge_runtime.file_hash import sha256_file
from export.accuracy import RoleAccuracy
from export.config import ExportConfig
from export.errors import AccuracyGateError, ExportError, TaskGateRefusedError
from export.gate import GateOutcome, run_gate
from export.golden import Golden, write_golden
from export.mixed_precision import MixedQuantizer
from export.onnx_check import validate_onnx
from export.ort_session import open_session, run
from export.precision_gate import gate_variants
from export.quantize import quantize
from export.report import add_task_report
from export.samples import Samples
from export.task_gate import TaskGateOutcome, run_task_gate

BUNDLE_ENTRIES = {MANIFEST, SIGNATURE, "models", "golden", "reports", "reference"}


@dataclass(frozen=True)
class RoleSource:
    """One role to bundle: its FP32 ONNX file and the source of each input, by input name."""

    onnx: Path
    sources: dict[str, str]


@dataclass
class BundleResult:
    path: Path
    manifest: Manifest
    accuracy: list[RoleAccuracy]
    seconds: dict[str, float] = field(default_factory=dict)
    signed_by: str = ""  # key id, "" when unsigned
    task: TaskGateOutcome | None = None  # the task-level gate (closed loop vs FP32)


def write_bundle(
    out: str | Path,
    roles: Mapping[str, RoleSource],
    observations: Samples,
    preprocessing: Preprocessing,
    action: ActionSpec,
    control_period_s: float,
    config: ExportConfig,
    sign_key: str | Path | None = None,
    tar: bool = False,
    exporter: Mapping[str, str] | None = None,
    world_model: WorldModelSpec | None = None,
) -> BundleResult:
    """Build the bundle at `out` (a directory; plus `out`.tar when `tar`).

    An auto-mixed bundle the task gate refuses is exported again with more layers in float
    before the export refuses (`export.task_recheck`).
    """
    from export.task_recheck import write_with_recheck

    started = time.perf_counter()
    out = Path(out)
    _check_target(out)
    private_key = load_private_key(sign_key) if sign_key is not None else None
    entries = {role: _entries(role, src) for role, src in roles.items()}
    if len(observations) < config.min_calibration_samples + 1:
        raise ExportError(
            f"the observation data holds {len(observations)} samples; export needs at least "
            f"{config.min_calibration_samples + 1} (calibration plus held-out) — record more"
        )

    def attempt(config: ExportConfig) -> BundleResult:
        """One export with `config`; a retry after a task-gate refusal calls it again."""
        with tempfile.TemporaryDirectory(prefix="edgerun-export-") as tmp:
            stage = Path(tmp) / "bundle"
            precision = {role: config.precision_for(role) for role in roles}
            fp32_run = {role: _runner(src.onnx) for role, src in roles.items()}
            quantize_fn = MixedQuantizer(config, action) if config.auto_mixed else quantize
            gate = run_gate(stage, roles, entries, precision, observations, action, config,
                            fp32_run, quantize_fn)  # fmt: skip
            variants = gate_variants(stage, gate, config, action) if gate.passed else {}
            seconds = {"quantize_gate": time.perf_counter() - started}
            if not gate.passed:
                _keep_reports(stage, out)
                raise AccuracyGateError(
                    "the quantized models stray beyond tolerance "
                    f"({'; '.join(gate.failures[:3])}); "
                    f"see {out / 'reports' / 'accuracy.json'} — use fp16/fp32 for that role, more "
                    "calibration data, or relax [gate] in the export config"
                )
            specs: dict[str, RoleSpec] = {}
            for role, src in roles.items():
                # The FP32 graph rides along so `bench models` and `verify` can show what
                # quantization costs on this device; the runtime never loads it.
                (stage / "reference").mkdir(exist_ok=True)
                shutil.copyfile(src.onnx, stage / FP32_REFERENCE.format(role=role))
                golden_rel = f"golden/{role}.npz"
                write_golden(
                    stage / golden_rel, _golden(gate.held_out_feeds[role], config, gate, role)
                )
                specs[role] = RoleSpec(
                    file=f"models/{role}.onnx",
                    precision=precision[role],
                    inputs=entries[role],
                    outputs=validate_onnx(stage / f"models/{role}.onnx").outputs,
                    golden=golden_rel,
                    tolerance=golden_tolerance(precision[role], gate.held_out_quant[role]),
                    variants=variants.get(role, ()),
                )
            manifest = Manifest(
                roles=specs,
                preprocessing=preprocessing,
                action=action,
                control_period_s=float(control_period_s),
                files=_hashes(stage),
                exporter=_exporter(exporter),
                created_utc=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                world_model=world_model,
            )
            mixed = quantize_fn.results if isinstance(quantize_fn, MixedQuantizer) else {}
            task = _task_gate(stage, out, manifest, config, mixed)
            manifest = replace(manifest, files=_hashes(stage))  # with the task gate's reports
            text = manifest.to_json()
            Manifest.from_json(text, "the new manifest")  # the reader must accept what we write
            (stage / MANIFEST).write_text(text, encoding="utf-8")
            if private_key is not None:
                signature = sign_manifest(text.encode("utf-8"), private_key)
                (stage / SIGNATURE).write_text(signature, encoding="utf-8")
            if out.exists():
                shutil.rmtree(out)
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(stage), out)
        path = out
        if tar:
            path = out.with_name(out.name + ".tar")
            with tarfile.open(path, "w") as archive:
                archive.add(out, arcname=out.name)
        seconds["total"] = time.perf_counter() - started
        signed_by = key_id(private_key.public_key()) if private_key is not None else ""
        return BundleResult(path, manifest, gate.results, seconds, signed_by, task)

    return write_with_recheck(attempt, config)


def golden_tolerance(precision: str, outputs: Mapping[str, np.ndarray]) -> dict[str, float]:
    """What `verify` allows between the device engine and the golden outputs of this graph.

    TensorRT picks its own kernels and fuses Q/DQ differently from ONNX Runtime, so INT8 is
    allowed a few quantization steps of the output's scale; FP16 a few half-precision ulps.
    """
    scale = max((float(np.max(np.abs(v))) for v in outputs.values() if v.size), default=1.0)
    relative = {"int8": 0.05, "fp16": 0.01, "fp32": 1e-3}[precision]
    cosine = {"int8": 0.99, "fp16": 0.999, "fp32": 0.9999}[precision]
    return {"cosine_min": cosine, "max_abs": round(max(1e-4, relative * scale), 6)}


def _golden(feeds: Samples, config: ExportConfig, gate: GateOutcome, role: str) -> Golden:
    count = min(config.golden_samples, len(feeds))
    quant = gate.held_out_quant[role]
    fp32 = gate.held_out_fp32[role]
    return Golden(
        inputs={k: v[:count] for k, v in feeds.arrays.items()},
        outputs={k: v[:count] for k, v in quant.items()},
        fp32={k: v[:count] for k, v in fp32.items()},
    )


def _task_gate(
    stage: Path, out: Path, manifest: Manifest, config: ExportConfig, mixed: dict[str, Any]
) -> TaskGateOutcome:
    """Closed loop vs FP32 on the staged bundle (under a provisional manifest that judges
    each role's own graph: `write_judged_manifest`)."""
    write_judged_manifest(stage, manifest)
    task = run_task_gate(stage, config.task_gate)
    add_task_report(stage / "reports" / "accuracy.json", task.summary())
    if not task.passed:
        _keep_reports(stage, out)
        raise TaskGateRefusedError(
            f"the bundle fails the task-level gate ({'; '.join(task.failures)}); see "
            f"{out / 'reports' / 'task.json'} — use fp16/fp32 for a role, more calibration "
            "data, or relax [task_gate] in the export config",
            mixed,
        )
    return task


def write_judged_manifest(stage: Path, manifest: Manifest) -> None:
    """Make the staged bundle loadable for a closed-loop judgement of its own graphs.

    The provisional manifest lists no variants, so what runs is each role's own graph (the one
    TensorRT runs; `build` may swap in only the FP32 original, or another gated variant), not
    whichever variant this export machine's timing happens to pick: on an AVX2 CPU that was
    FP32 for every role, so a judgement there compared FP32 with FP32. The task gate and the
    reference monitor's calibration both judge the bundle this way.
    """
    roles = {role: replace(spec, variants=()) for role, spec in manifest.roles.items()}
    (stage / MANIFEST).write_text(replace(manifest, roles=roles).to_json(), encoding="utf-8")


def _keep_reports(stage: Path, out: Path) -> None:
    """A refused export leaves only its reports in `out`, to show why."""
    (out / "reports").mkdir(parents=True, exist_ok=True)
    for report in (stage / "reports").iterdir():
        shutil.copyfile(report, out / "reports" / report.name)


def _hashes(stage: Path) -> dict[str, str]:
    return {
        str(p.relative_to(stage)): sha256_file(p)
        for p in sorted(stage.rglob("*"))
        if p.is_file() and p != stage / MANIFEST  # the provisional one of the task gate
    }


def _entries(role: str, src: RoleSource) -> tuple[TensorEntry, ...]:
    io = validate_onnx(src.onnx, where=f"{role} model {src.onnx}")
    names = io.input_names
    if sorted(src.sources) != sorted(names):
        raise ExportError(
            f"{role} model {src.onnx} has inputs {names} but the spec names sources for "
            f"{sorted(src.sources)}; make the input names match"
        )
    return tuple(
        TensorEntry(t.name, t.shape, t.dtype, source=src.sources[t.name]) for t in io.inputs
    )


def _runner(path: Path):  # type: ignore[no-untyped-def]
    session = open_session(path, threads=1)
    return lambda feed: run(session, feed)


def _check_target(out: Path) -> None:
    if out.exists() and (not out.is_dir() or not {p.name for p in out.iterdir()} <= BUNDLE_ENTRIES):
        raise ExportError(
            f"{out} exists and is not a bundle; choose an empty or new output directory"
        )


def _exporter(extra: Mapping[str, str] | None) -> dict[str, str]:
    import onnx
    import onnxruntime

    info = {
        "name": "edge-runtime export",
        "version": __version__,
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
    }
    info.update(dict(extra or {}))
    return info
