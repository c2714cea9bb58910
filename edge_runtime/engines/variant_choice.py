"""Which of a role's graphs to run here: the fastest on this device's backend, measured once.

A bundle role may carry precision variants (`RoleSpec.variants`) beside its model, and always
carries its FP32 original (`reference/<role>.fp32.onnx`). Which is fastest depends on the
backend and the CPU: ONNX Runtime on an AVX2 CPU runs TensorRT's Q/DQ graph *slower* than FP32
(docs/perf/mixed-precision.md), its own `int8_ort` graph faster. So the device times every
candidate its backend can run, on this machine, and keeps the fastest; the FP32 original is
always a candidate, so a role never runs slower than its float original. Every variant passed
the export gate. The choice is cached in the engine cache, keyed by the candidates' hashes,
the backend and its version, and the CPU (TensorRT: the GPU and L4T), so the timing runs once
per bundle and device. ONNX Runtime times at the first `run`; TensorRT in `edgerun build`
(`export.trt_variants`), which builds every candidate's engine first.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_runtime.bundle.manifest import FP32_REFERENCE, RoleSpec
from edge_runtime.bundle.reader import Bundle
from edge_runtime.engines.base import Engine
from edge_runtime.engines.trt_cache import DeviceInfo

log = logging.getLogger(__name__)
# Candidates take turns, a block of runs each, and each keeps its best block median, so a
# burst of load from another process does not decide the choice: at least MIN_BLOCKS rounds,
# more (up to MAX_BLOCKS) while the rounds so far took under BUDGET_S, so short models get
# enough rounds to catch a quiet moment.
MIN_BLOCKS, MAX_BLOCKS, RUNS_PER_BLOCK, BUDGET_S = 4, 16, 5, 1.5


@dataclass(frozen=True)
class Candidate:
    file: str  # relative to the bundle root
    precision: str
    sha256: str


# Seconds of one inference of each graph (same order) on the backend.
Measure = Callable[[list[Path], RoleSpec, int], list[float]]


def role_candidates(bundle: Bundle, role: str, backend: str) -> list[Candidate]:
    """The role's model, its variants this backend runs, and the FP32 original; no repeats.

    A role without variants (every bundle exported before them) runs its model as before:
    no timing at startup, the same graph on every machine.
    """
    spec = bundle.manifest.roles[role]
    files = bundle.manifest.files
    found = [Candidate(spec.file, spec.precision, files[spec.file])]
    if not spec.variants:
        return found
    found += [Candidate(v.file, v.precision, files[v.file]) for v in spec.variants
              if backend in v.backends]  # fmt: skip
    reference = FP32_REFERENCE.format(role=role)
    if reference in files and spec.precision != "fp32":
        found.append(Candidate(reference, "fp32", files[reference]))
    return list({c.file: c for c in found}.values())  # the reference may be listed as a variant


def choose_variant(
    bundle: Bundle,
    role: str,
    backend: str,
    cache_dir: str | Path,
    intra_op_threads: int = 1,
    measure: Measure | None = None,
    device: DeviceInfo | None = None,
) -> Candidate:
    """The fastest candidate for `role` on `backend` (cached); the model itself if alone.

    On TensorRT the timing needs every candidate's engine, so `edgerun build` measures and
    caches the choice (`record_choice`); until it has, the manifest's model runs, whose engine
    `build` makes first. `device` is this machine's TensorRT device (probed when omitted).
    """
    candidates = role_candidates(bundle, role, backend)
    if len(candidates) == 1:
        return candidates[0]
    cache = choice_path(cache_dir, backend, candidates, intra_op_threads, device)
    cached = read_choice(cache, candidates)
    if cached is not None or backend != "onnxruntime":
        return cached or candidates[0]
    timer = measure or ort_interleaved_s
    spec = bundle.manifest.roles[role]
    timed = timer([bundle.path(c.file) for c in candidates], spec, intra_op_threads)
    return record_choice(cache, role, backend, candidates, timed)


def read_choice(cache: Path, candidates: list[Candidate]) -> Candidate | None:
    """The cached choice if it names one of `candidates`; None when absent or unreadable."""
    by_file = {c.file: c for c in candidates}
    try:
        cached = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # no or unreadable cache: measure
    return by_file.get(cached.get("chosen")) if isinstance(cached, dict) else None


def record_choice(
    cache: Path, role: str, backend: str, candidates: list[Candidate], timed_s: list[float]
) -> Candidate:
    """Cache the fastest of `candidates` (seconds per inference, same order); return it."""
    seconds = {c.file: t for c, t in zip(candidates, timed_s)}
    chosen = min(candidates, key=lambda c: seconds[c.file])
    log.info("role %s on %s: %s (%s) fastest of %s", role, backend, chosen.file,
             chosen.precision, {k: f"{1e3 * v:.3f} ms" for k, v in seconds.items()})  # fmt: skip
    _write_atomic(cache, {"role": role, "chosen": chosen.file, "precision": chosen.precision,
                          "median_ms": {k: 1e3 * v for k, v in seconds.items()}})  # fmt: skip
    return chosen


def ort_interleaved_s(paths: list[Path], spec: RoleSpec, intra_op_threads: int) -> list[float]:
    """Best block median per graph in ONNX Runtime with the runtime's session options.

    CPU time of this thread, not wall time: with one intra-op thread ORT computes on the
    calling thread, and CPU time does not count the moments another process held the core,
    which on a loaded 2-core computer swung wall-time medians by 2x between rounds.
    """
    from edge_runtime.engines.onnxruntime_engine import OnnxRuntimeEngine

    engines = [OnnxRuntimeEngine(p, intra_op_threads=intra_op_threads) for p in paths]
    try:
        return interleaved_best_s(engines, time.thread_time)
    finally:
        for engine in engines:
            engine.close()


def interleaved_best_s(engines: list[Engine], clock: Callable[[], float]) -> list[float]:
    """Each engine's best block median (seconds by `clock`), the engines taking turns."""
    rng = np.random.default_rng(0)  # not zeros: dynamic quantization of zeros is degenerate
    feeds = {t.name: rng.standard_normal(t.shape).astype(t.dtype) for t in engines[0].inputs}
    best = [float("inf")] * len(engines)
    for engine in engines:
        engine.infer(feeds)  # warm-up: first-run allocations
    started = time.perf_counter()
    for block in range(MAX_BLOCKS):
        if block >= MIN_BLOCKS and time.perf_counter() - started > BUDGET_S:
            break
        for i, engine in enumerate(engines):
            times = []
            for _ in range(RUNS_PER_BLOCK):
                start = clock()
                engine.infer(feeds)
                times.append(clock() - start)
            best[i] = min(best[i], float(np.median(times)))
    return best


def choice_path(
    cache_dir: str | Path,
    backend: str,
    candidates: list[Candidate],
    threads: int,
    device: DeviceInfo | None = None,
) -> Path:
    """Where the choice among `candidates` is cached: keyed by what makes timings differ.

    ONNX Runtime: its version, the CPU and the thread count. TensorRT: the engine cache's
    device key (TensorRT version, GPU, compute capability, L4T), since engines differ there.
    """
    import hashlib

    if backend == "tensorrt":
        from edge_runtime.engines.trt_cache import probe

        found = device or probe()
        runtime: list[object] = [found.tensorrt, found.gpu_name, found.compute_capability,
                                 found.l4t]  # fmt: skip
    else:
        import onnxruntime

        runtime = [onnxruntime.__version__, _cpu_name(), threads]
    key = json.dumps([backend, *runtime, sorted(c.sha256 for c in candidates)])
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return Path(cache_dir).expanduser() / "variant-choice" / f"{digest}.json"


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith(("model name", "Model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _write_atomic(path: Path, data: dict[str, object]) -> None:
    """Best effort: a read-only cache only means timing again at the next start."""
    partial = path.with_suffix(f".{os.getpid()}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(partial, path)
    except OSError as exc:
        log.warning("cannot cache the variant choice in %s: %s", path, exc)
