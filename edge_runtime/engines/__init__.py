"""Engines behind the `Engine` port, and backend selection.

A registry maps a backend name to a lazily imported class (python-can style), so TensorRT and
pycuda are imported only when the tensorrt backend is selected. This module is light to import
(numpy only), so the backend names and the engine cache default live here, once, for the robot
config, the CLI's `choices=` and the device commands.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Sequence
from pathlib import Path

from edge_runtime.engines.base import Engine, TensorSpec
from edge_runtime.errors import BackendUnavailableError, ConfigError

log = logging.getLogger(__name__)
BACKENDS = ("auto", "onnxruntime", "tensorrt")
# Where `edgerun build` puts TensorRT engines and `run` finds them ([model] engine_cache).
DEFAULT_ENGINE_CACHE = "~/.cache/edge-runtime/engines"


def tensorrt_available() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("tensorrt", "pycuda"))


def select_backend(requested: str) -> str:
    """`auto` means TensorRT where it is installed (a Jetson), ONNX Runtime elsewhere.

    What to *build* for (`deploy`, `verify`); what to *run* also needs the engines to exist
    on this device: `resolve_backend`.
    """
    if requested not in BACKENDS:
        raise ConfigError(f"unknown backend '{requested}'; choose one of {', '.join(BACKENDS)}")
    if requested == "auto":
        return "tensorrt" if tensorrt_available() else "onnxruntime"
    if requested == "tensorrt" and not tensorrt_available():
        raise BackendUnavailableError(
            "backend 'tensorrt' was requested but TensorRT/pycuda are not installed on this "
            "machine; on a Jetson install JetPack's python3-libnvinfer and `pip install "
            'edge-runtime[jetson]`, elsewhere use backend = "onnxruntime"'
        )
    return requested


def resolve_backend(
    requested: str,
    models: Sequence[tuple[Path, str, str | None]],
    engine_cache: str | Path = DEFAULT_ENGINE_CACHE,
) -> str:
    """The backend to run `models` (onnx path, precision, sha256) on.

    `auto` is TensorRT only where it is installed *and* every model has a valid engine for
    this device in the cache; otherwise ONNX Runtime, with one warning that names `edgerun
    build`, so a robot whose engines are not built yet still runs (slower) instead of refusing
    to start. An explicit `tensorrt` still refuses without engines (`open_engine` says why).
    """
    chosen = select_backend(requested)
    if requested != "auto" or chosen != "tensorrt":
        return chosen
    from edge_runtime.engines.trt_cache import find_engine, probe

    try:
        device = probe()
        for onnx_path, precision, sha in models:
            find_engine(Path(engine_cache).expanduser(), onnx_path, precision, device,
                        onnx_sha256=sha)  # fmt: skip
    except Exception as exc:  # a stale cache, no GPU visible, pycuda failing to init
        log.warning(
            "backend auto: running on ONNX Runtime (CPU), NOT TensorRT: %s; build this "
            "device's engines with `edgerun build BUNDLE` (or `edgerun deploy`)",
            exc,
        )
        return "onnxruntime"
    return "tensorrt"


def open_engine(
    onnx_path: str | Path,
    backend: str = "auto",
    *,
    precision: str = "fp32",
    intra_op_threads: int = 1,
    engine_cache: str | Path = DEFAULT_ENGINE_CACHE,
    onnx_sha256: str | None = None,
) -> Engine:
    """Open the engine for one bundle model on the chosen backend.

    For TensorRT the engine must already be in the cache (`edgerun build` puts it there);
    a stale or missing engine is an error, never a silent build inside `run`. The cache is
    keyed by the ONNX file's sha256: pass the bundle manifest's (`open_bundle` has verified
    it) so a large graph is not hashed again; without it the file is hashed here.
    """
    chosen = select_backend(backend)
    if chosen == "onnxruntime":
        from edge_runtime.engines.onnxruntime_engine import OnnxRuntimeEngine

        return OnnxRuntimeEngine(onnx_path, intra_op_threads=intra_op_threads)
    from edge_runtime.engines.tensorrt_engine import TensorRTEngine
    from edge_runtime.engines.trt_cache import find_engine

    engine_file = find_engine(
        Path(engine_cache).expanduser(), Path(onnx_path), precision, onnx_sha256=onnx_sha256
    )
    return TensorRTEngine(engine_file)


__all__ = [
    "BACKENDS",
    "DEFAULT_ENGINE_CACHE",
    "Engine",
    "TensorSpec",
    "open_engine",
    "resolve_backend",
    "select_backend",
    "tensorrt_available",
]
