"""`edgerun selftest`: is this robot, with this bundle, ready to arm? Torque stays off.

Checks, in order (each one line of the report; all run, so one report shows every problem):
- bundle: hashes, signature against the robot's trusted keys, joints match the config;
- engines: every role opens on the configured backend (TensorRT: a valid cached engine);
- golden parity: each role reproduces its golden outputs on this device. This is the export
  package's `verify`, plugged in by the caller (`parity`): edge_runtime does not import
  export, and the command that offers selftest (export/cli_field.py) passes it in;
- calibration: the joint calibration `run` would require;
- disk: free space where reports, logs and bundle slots go;
- memory: what the control process will hold (started as `run` starts it, memory locked; the
  bus is not opened) and this process's peak, which has imported what the runtime imports
  and opened every engine (docs/perf/memory.md);
- camera (a row per `[[cameras]]` entry: "camera <name>"), motors, loop timing
  (`selftest_devices`).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from edge_runtime.bundle.reader import Bundle
from edge_runtime.config import RobotConfig
from edge_runtime.engines import open_engine, resolve_backend, select_backend
from edge_runtime.errors import EdgeRuntimeError
from edge_runtime.field.selftest_devices import device_checks
from edge_runtime.field.selftest_report import Check, ParityCheck, SelftestReport
from edge_runtime.field.slots import pin_bundle
from edge_runtime.field.state_dir import resolve_state_dir
from edge_runtime.loop.control_process import control_footprint
from edge_runtime.loop.process_memory import memory_report, process_memory
from edge_runtime.robot import (
    check_bundle_matches,
    joint_calibration,
    motor_bus_spec,
    open_model_bundle,
)

CONTROL_GOAL_MB = 60.0  # resident, memory locked (issue 12)

if TYPE_CHECKING:
    from edge_runtime.calibration_artifacts.schemas import JointCalibration


def run_selftest(
    config: RobotConfig,
    parity: ParityCheck | None = None,
    bundle_path: Path | None = None,
    log_dirs: tuple[Path, ...] = (),
) -> SelftestReport:
    """Every check, on `bundle_path` (default: the config's `[model] bundle`), against the
    robot's `[selftest]` thresholds."""
    limits = config.selftest
    config = pin_bundle(config)  # `active` -> `a`: the report names the slot it checked
    bundle, checks = _bundle(config, bundle_path)
    checks += _engines_and_parity(config, bundle, parity)
    joints, calibration = _calibration(config)
    checks.append(calibration)
    checks.append(disk_check((resolve_state_dir(config), *log_dirs), limits.min_free_disk_gb))
    checks.append(memory_check(config, joints))
    checks += device_checks(config, joints)
    where = str(bundle.root) if bundle else str(bundle_path or config.model.bundle)
    return SelftestReport(config.name, where, tuple(checks), limits)


def _bundle(config: RobotConfig, bundle_path: Path | None) -> tuple[Bundle | None, list[Check]]:
    try:
        bundle = open_model_bundle(config, bundle_path)
        check_bundle_matches(config, bundle)
    except EdgeRuntimeError as exc:
        return None, [Check("bundle", "fail", str(exc))]
    signer = f"signed by {bundle.signed_by}" if bundle.signed_by else "UNSIGNED (development)"
    roles = ", ".join(bundle.manifest.roles)
    status = "ok" if bundle.signed_by else "warn"
    return bundle, [Check("bundle", status, f"{signer}; roles {roles}; joints match the config")]


def _engines_and_parity(
    config: RobotConfig, bundle: Bundle | None, parity: ParityCheck | None
) -> list[Check]:
    if bundle is None:
        return [Check("engines", "skip", "no bundle"), Check("golden parity", "skip", "no bundle")]
    cache = config.model.engine_cache
    roles = bundle.manifest.roles
    gpu_mb: dict[str, float] = {}
    context_mb: dict[str, float] = {}
    try:
        models = [(bundle.path(s.file), s.precision, bundle.manifest.files[s.file])
                  for s in roles.values()]  # fmt: skip
        backend = resolve_backend(config.model.backend, models, cache)
        for role, (model, precision, sha) in zip(roles, models):
            with open_engine(model, backend, precision=precision, engine_cache=cache,
                             onnx_sha256=sha) as engine:  # fmt: skip
                if hasattr(engine, "gpu_memory_bytes"):  # TensorRT: what it took on the GPU
                    gpu_mb[role] = round(engine.gpu_memory_bytes / 1e6, 1)
                    context_mb[role] = round(engine.context_memory_bytes / 1e6, 1)
    except EdgeRuntimeError as exc:
        return [Check("engines", "fail", str(exc)), Check("golden parity", "skip", "no engines")]
    detail = f"{backend}: {', '.join(roles)} open"
    if gpu_mb:
        detail += "; GPU memory " + ", ".join(
            f"{r} {mb:g} MB ({context_mb[r]:g} MB execution context)" for r, mb in gpu_mb.items()
        )
    fell_back = backend != select_backend(config.model.backend)  # auto without built engines
    if fell_back:
        detail += " (auto: no TensorRT engines for this device; run `edgerun build BUNDLE`)"
    values = {"gpu_mb": gpu_mb, "context_mb": context_mb}
    engines = Check("engines", "warn" if fell_back else "ok", detail, values)
    if parity is None:
        return [engines, Check("golden parity", "skip", "needs the export package's verify")]
    try:
        return [engines, *parity(bundle, backend, cache)]
    except EdgeRuntimeError as exc:
        return [engines, Check("golden parity", "fail", str(exc))]


def _calibration(config: RobotConfig) -> tuple[JointCalibration | None, Check]:
    if not config.calibration_dir:
        return None, Check("calibration", "skip", "no [calibration] dir in the config")
    try:
        joints = joint_calibration(config)
    except EdgeRuntimeError as exc:
        return None, Check("calibration", "fail", str(exc))
    return joints, Check("calibration", "ok", f"joint calibration for ids {config.motor_ids}")


def memory_check(config: RobotConfig, joints: JointCalibration | None) -> Check:
    """The control process's footprint against its goal (issue 12: <= 60 MB, it is locked and
    the GPU shares the RAM), and this process's peak with the engines loaded (for scale)."""
    control = control_footprint(motor_bus_spec(config, None, joints), lock_memory=True)
    selftest = process_memory()
    values = memory_report(control, selftest)
    detail = (
        f"control process {control.rss_mb:g} MB ({control.locked_mb:g} MB locked), "
        f"runtime imports with the engines open {selftest.peak_rss_mb:g} MB peak"
    )
    if not control.rss_mb:
        return Check("memory", "warn", "the control process did not report; " + detail, values)
    if control.rss_mb > CONTROL_GOAL_MB:
        return Check("memory", "warn", f"{detail}; goal <= {CONTROL_GOAL_MB:g} MB", values)
    return Check("memory", "ok", detail, values)


def disk_check(paths: tuple[Path, ...], min_free_gb: float) -> Check:
    """Free space on the file systems of `paths` (the nearest existing parent of each)."""
    free: dict[str, float] = {}
    for path in paths:
        existing = next(p for p in (path, *path.parents) if p.exists())
        free[str(path)] = round(shutil.disk_usage(existing).free / 1e9, 2)
    low = {p: gb for p, gb in free.items() if gb < min_free_gb}
    text = ", ".join(f"{p} {gb:g} GB free" for p, gb in free.items())
    if low:
        return Check("disk", "fail", f"{text}; need {min_free_gb:g} GB for logs", free)
    return Check("disk", "ok", text, free)
