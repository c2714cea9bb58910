"""Which engine each role runs on TensorRT: `edgerun build` times them and caches the choice.

On ONNX Runtime the device times a role's candidate graphs at the first `run`
(`engines.variant_choice`). TensorRT can only time engines, which take minutes to build, so
`edgerun build` builds every candidate's engine (`export.trt_build.plan_builds`), then times
them here, interleaved (wall time: the GPU computes, the calling thread waits), and writes
the choice to the same cache `run` reads (`variant_choice.choice_path`). Every candidate
passed the export gate; the Q/DQ INT8 graph builds with INT8 + FP16 flags, so on a Jetson the
fastest is usually it, but a role whose INT8 kernels lose to FP16 keeps the faster one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from edge_runtime.bundle.reader import Bundle
from edge_runtime.engines.trt_cache import DeviceInfo
from edge_runtime.engines.variant_choice import (
    Candidate,
    choice_path,
    interleaved_best_s,
    read_choice,
    record_choice,
    role_candidates,
)
from export.trt_build import BuildJob, Echo

# Seconds per inference of each engine file (same order).
EngineTimer = Callable[[list[Path]], list[float]]


def trt_interleaved_s(engine_files: list[Path]) -> list[float]:
    """Best block median of each engine on this GPU, the engines taking turns (wall time)."""
    from edge_runtime.engines.tensorrt_engine import TensorRTEngine

    engines = []
    try:
        for path in engine_files:
            engines.append(TensorRTEngine(path))
        return interleaved_best_s(list(engines), time.perf_counter)
    finally:
        for engine in engines:
            engine.close()


def choose_engines(
    bundle: Bundle,
    cache_dir: Path,
    device: DeviceInfo,
    jobs: Sequence[BuildJob],
    echo: Echo,
    force: bool = False,
    measure: EngineTimer = trt_interleaved_s,
) -> dict[str, Candidate]:
    """Each role's fastest engine (timed unless cached, or `force`), by role."""
    chosen: dict[str, Candidate] = {}
    for role in bundle.manifest.roles:
        candidates = role_candidates(bundle, role, "tensorrt")
        if len(candidates) == 1:
            continue  # nothing to choose: `run` opens the model's engine
        cache = choice_path(cache_dir, "tensorrt", candidates, 1, device)
        cached = None if force else read_choice(cache, candidates)
        if cached is not None:
            echo(f"{role}: runs {cached.precision} ({cached.file}), cached choice")
            chosen[role] = cached
            continue
        engines = {(j.onnx_sha256, j.precision): j.engine for j in jobs if j.role == role}
        timed = measure([engines[(c.sha256, c.precision)] for c in candidates])
        chosen[role] = record_choice(cache, role, "tensorrt", candidates, timed)
        times = ", ".join(f"{c.precision} {1e3 * t:.3f} ms" for c, t in zip(candidates, timed))
        echo(f"{role}: runs {chosen[role].precision} ({chosen[role].file}); {times}")
    return chosen
