"""`edgerun build BUNDLE`: TensorRT 10.3 engines for this device, cached by graph and device.

Plan first (pure, unit-tested): which roles' candidate graphs (the model and the variants
TensorRT runs, `engines.variant_choice`) already have a valid engine, which are missing or
stale (a JetPack/TensorRT upgrade changes the key or the sidecar), with what flags. Then build
each missing engine with the TensorRT 10.3 builder: INT8 + FP16 flags for INT8 Q/DQ graphs
(explicit Q/DQ, float parts in FP16; see `network_flags`), the FP16 flag for FP16
bundles, a workspace limit that leaves room on 8 GB boards, and a timing cache kept beside the
engine so a rebuild after a bundle update skips most kernel timing. The engine is written to a
temporary name and renamed, then the sidecar is written: a killed build never leaves an engine
that looks valid.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_runtime.bundle.reader import Bundle
from edge_runtime.engines.trt_cache import (
    DeviceInfo,
    StaleEngineError,
    check_engine,
    engine_path,
    precision_flags,
    write_sidecar,
)
from edge_runtime.engines.variant_choice import role_candidates
from export.errors import ExportError

# Orin Nano/NX 8 GB share memory between CPU and GPU; builds with multi-GB workspaces get
# OOM-killed there. 1 GiB is enough for these policies and leaves room for the OS and camera.
DEFAULT_WORKSPACE_MB = 1024
MAX_WORKSPACE_MB = 16384

Echo = Callable[[str], None]


@dataclass(frozen=True)
class BuildJob:
    role: str
    onnx: Path
    onnx_sha256: str
    precision: str
    flags: str
    engine: Path
    status: str  # "cached" (valid engine), "missing", or "stale: <why>"

    @property
    def timing_cache(self) -> Path:
        return self.engine.with_suffix(".timing")

    @property
    def log(self) -> Path:
        return self.engine.with_suffix(".log")

    @property
    def needs_build(self) -> bool:
        return self.status != "cached"


def check_workspace(workspace_mb: int) -> int:
    if not 64 <= workspace_mb <= MAX_WORKSPACE_MB:
        raise ExportError(
            f"--workspace-mb {workspace_mb} is out of range; use 64-{MAX_WORKSPACE_MB} "
            f"(default {DEFAULT_WORKSPACE_MB}, which fits 8 GB boards)"
        )
    return workspace_mb


def plan_builds(
    bundle: Bundle, cache_dir: Path, device: DeviceInfo, force: bool = False
) -> list[BuildJob]:
    """One job per role and candidate TensorRT can run, the manifest's model first.

    Candidates are `variant_choice.role_candidates` for TensorRT: the model, its variants
    except the ORT-only `int8_ort`, and the FP32 original when the role has variants. The ONNX
    sha256 is the manifest's (already checked by open_bundle).
    """
    jobs = []
    for role in bundle.manifest.roles:
        for candidate in role_candidates(bundle, role, "tensorrt"):
            sha = candidate.sha256
            flags = precision_flags(candidate.precision)
            path = engine_path(cache_dir, sha, device, flags)
            if force:
                status = "stale: --force"
            elif not path.exists():
                status = "missing"
            else:
                try:
                    check_engine(path, sha, device, flags)
                    status = "cached"
                except StaleEngineError as exc:
                    status = f"stale: {exc}"
            onnx = bundle.path(candidate.file)
            jobs.append(BuildJob(role, onnx, sha, candidate.precision, flags, path, status))
    return jobs


def build_engines(
    bundle: Bundle,
    cache_dir: Path,
    echo: Echo,
    workspace_mb: int = DEFAULT_WORKSPACE_MB,
    force: bool = False,
) -> None:
    """Build every missing or stale engine of `bundle` for this device (`build`, `deploy`),
    then time each role's engines and cache the fastest for `run` (`export.trt_variants`)."""
    from edge_runtime.engines.trt_cache import probe

    workspace = check_workspace(workspace_mb)
    device = probe()
    echo(
        f"device: TensorRT {device.tensorrt}, {device.gpu_name} (sm {device.compute_capability})"
        f", L4T {device.l4t}; workspace {workspace} MiB; cache {cache_dir}"
    )
    started = time.monotonic()
    jobs = plan_builds(bundle, cache_dir, device, force=force)
    for job in jobs:
        name = f"{job.role} [{job.precision}, {job.onnx.name}]"
        if not job.needs_build:
            echo(f"{name}: cached engine {job.engine.name} is valid")
            continue
        echo(f"{name}: building ({job.status.split(':')[0]}, {job.flags}) ...")
        seconds = compile_engine(job, device, workspace, echo)
        echo(f"{name}: built {job.engine} in {seconds:.1f} s")
    from export.trt_variants import choose_engines

    choose_engines(bundle, cache_dir, device, jobs, echo, force=force)
    echo(f"done in {time.monotonic() - started:.1f} s")


class ProgressPrinter:
    """Thread-safe phase/step progress with elapsed time (TensorRT reports from its threads)."""

    def __init__(self, echo: Echo, started: float | None = None) -> None:
        self.echo = echo
        self.started = time.monotonic() if started is None else started
        self._lock = threading.Lock()
        self._steps: dict[str, int] = {}

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def phase_start(self, name: str, parent: str | None, steps: int) -> None:
        with self._lock:
            self._steps[name] = steps
            if parent is None:  # nested phases are too chatty for a terminal
                self.echo(f"  [{self.elapsed():6.1f} s] {name} ({steps} steps)")

    def step_complete(self, name: str, step: int) -> bool:
        return True  # never cancel; TensorRT asks after every step

    def phase_finish(self, name: str) -> None:
        with self._lock:
            self._steps.pop(name, None)


def network_flags(trt: Any, precision: str) -> int:
    """Weakly typed for every precision (no STRONGLY_TYPED bit).

    A strongly typed network takes its types from the graph, so the float parts of an INT8
    Q/DQ graph (LayerNorm, Softmax, GELU, float output heads) ran in FP32: on a Jetson the
    slowest part of a mixed graph. Weakly typed with the INT8 + FP16 builder flags
    (`builder_flags`) lets TensorRT pick FP16 for them while the Q/DQ pairs stay explicit.
    TensorRT 11 drops those flags; that port will emit FP16 float parts in the graph instead.
    """
    del trt, precision
    return 0


def builder_flags(trt: Any, precision: str) -> list[Any]:
    """`BuilderFlag`s per bundle precision: INT8 graphs also get FP16 (see `network_flags`)."""
    names = {"int8": ("INT8", "FP16"), "fp16": ("FP16",), "fp32": ()}[precision]
    return [getattr(trt.BuilderFlag, name) for name in names]


def compile_engine(job: BuildJob, device: DeviceInfo, workspace_mb: int, echo: Echo) -> float:
    """Build one engine with TensorRT 10.3; returns the build time in seconds."""
    from edge_runtime.engines.tensorrt_engine import import_tensorrt

    trt, _cuda = import_tensorrt()
    started = time.monotonic()
    printer = ProgressPrinter(echo, started)
    log_lines: list[str] = [f"build {job.role} {job.onnx.name} flags={job.flags}"]

    class _Logger(trt.ILogger):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            trt.ILogger.__init__(self)

        def log(self, severity: Any, msg: str) -> None:
            log_lines.append(f"{severity}: {msg}")

    class _Monitor(trt.IProgressMonitor):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            trt.IProgressMonitor.__init__(self)

        def phase_start(self, phase_name: str, parent_phase: str | None, num_steps: int) -> None:
            printer.phase_start(phase_name, parent_phase, num_steps)

        def step_complete(self, phase_name: str, step: int) -> bool:
            return printer.step_complete(phase_name, step)

        def phase_finish(self, phase_name: str) -> None:
            printer.phase_finish(phase_name)

    logger = _Logger()
    monitor = _Monitor()
    job.engine.parent.mkdir(parents=True, exist_ok=True)
    try:
        builder = trt.Builder(logger)
        network = builder.create_network(network_flags(trt, job.precision))
        parser = trt.OnnxParser(network, logger)
        if not parser.parse_from_file(str(job.onnx)):
            errors = [str(parser.get_error(i)) for i in range(parser.num_errors)]
            log_lines.extend(errors)
            raise ExportError(
                f"TensorRT cannot parse {job.onnx.name}: {errors[0] if errors else 'unknown'}; "
                f"see {job.log}"
            )
        config = builder.create_builder_config()
        config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_mb << 20)
        for flag in builder_flags(trt, job.precision):
            config.set_flag(flag)
        blob = job.timing_cache.read_bytes() if job.timing_cache.is_file() else b""
        cache = config.create_timing_cache(blob)
        # The cache sits beside an engine keyed by this exact device: never accept one from
        # another GPU (TensorRT warns that mixed-device caches give wrong or slow tactics).
        config.set_timing_cache(cache, ignore_mismatch=False)
        config.progress_monitor = monitor
        serialized = builder.build_serialized_network(network, config)
        if serialized is None:
            raise ExportError(
                f"TensorRT failed to build {job.role} (out of memory? try a smaller "
                f"--workspace-mb); see {job.log}"
            )
        partial = job.engine.with_suffix(".engine.partial")
        with partial.open("wb") as handle:
            handle.write(memoryview(serialized))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, job.engine)
        job.timing_cache.write_bytes(memoryview(config.get_timing_cache().serialize()))
        write_sidecar(job.engine, job.onnx_sha256, device, job.flags)
    finally:
        log_lines.append(f"elapsed {time.monotonic() - started:.1f} s")
        job.log.write_text("\n".join(log_lines) + "\n", encoding="utf-8")
    return time.monotonic() - started
