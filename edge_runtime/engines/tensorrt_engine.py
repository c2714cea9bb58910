"""TensorRT engine (Jetson), written to the TensorRT 10.3 API with pycuda.

Every CUDA call happens on the thread that created the engine: pycuda contexts belong to the
thread that made them, so the inference worker creates, uses and closes its engines itself.
Host buffers are page-locked so copies run asynchronously on one stream; the only
synchronisation per inference is `stream.synchronize()` after the device-to-host copies.
Engines are never built here (that takes minutes): `edgerun build` makes them beforehand.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.engines.base import Engine, TensorSpec
from edge_runtime.errors import BackendUnavailableError, EngineError

log = logging.getLogger(__name__)


def import_tensorrt() -> tuple[Any, Any]:
    """Import tensorrt and pycuda, or say exactly what is missing."""
    try:
        import tensorrt as trt
    except ImportError as exc:
        raise BackendUnavailableError(
            "backend 'tensorrt' needs TensorRT's Python bindings, which are not installed here; "
            "on a Jetson install JetPack's python3-libnvinfer and create the venv with "
            '--system-site-packages, or set [model] backend = "onnxruntime"'
        ) from exc
    try:
        import pycuda.driver as cuda
    except ImportError as exc:
        raise BackendUnavailableError(
            "backend 'tensorrt' needs pycuda; install it with `pip install edge-runtime[jetson]`"
        ) from exc
    return trt, cuda


class TensorRTEngine(Engine):
    backend = "tensorrt"

    def __init__(self, engine_path: str | Path, device_index: int = 0) -> None:
        trt, cuda = import_tensorrt()
        self._trt, self._cuda = trt, cuda
        self.engine_path = Path(engine_path)
        if not self.engine_path.is_file():
            raise EngineError(
                f"TensorRT engine {self.engine_path} does not exist; run `edgerun build BUNDLE` "
                "on this device first"
            )
        self._owner = threading.get_ident()
        cuda.init()
        self._context_cuda = cuda.Device(device_index).make_context()
        try:
            self._load(trt, cuda)
        except BaseException:
            self._context_cuda.pop()
            self._context_cuda.detach()
            raise

    def _load(self, trt: Any, cuda: Any) -> None:
        self._logger = trt.Logger(trt.Logger.WARNING)
        self._runtime = trt.Runtime(self._logger)
        engine = self._runtime.deserialize_cuda_engine(self.engine_path.read_bytes())
        if engine is None:
            # deserialize returns None on a TensorRT version or GPU mismatch.
            raise EngineError(
                f"TensorRT {trt.__version__} cannot load {self.engine_path}: it was built for "
                "another TensorRT version or GPU; rebuild it with `edgerun build BUNDLE`"
            )
        self._engine = engine
        self._context = engine.create_execution_context()
        self._stream = cuda.Stream()
        self._inputs = []
        self._outputs = []
        self._host: dict[str, np.ndarray] = {}
        self._device: dict[str, Any] = {}
        for index in range(engine.num_io_tensors):
            name = engine.get_tensor_name(index)
            shape = tuple(engine.get_tensor_shape(name))
            if any(d < 0 for d in shape):
                raise EngineError(
                    f"{self.engine_path}: tensor '{name}' has a dynamic shape {shape}"
                )
            dtype = np.dtype(trt.nptype(engine.get_tensor_dtype(name)))
            spec = TensorSpec(name=name, shape=shape, dtype=dtype)
            host = cuda.pagelocked_empty(shape, dtype)
            device = cuda.mem_alloc(host.nbytes)
            self._host[name], self._device[name] = host, device
            self._context.set_tensor_address(name, int(device))
            if engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT:
                self._inputs.append(spec)
            else:
                self._outputs.append(spec)

    def _infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        if threading.get_ident() != self._owner:
            raise EngineError("a TensorRT engine must be used on the thread that created it")
        cuda = self._cuda
        for spec in self._inputs:
            np.copyto(self._host[spec.name], feeds[spec.name])
            cuda.memcpy_htod_async(self._device[spec.name], self._host[spec.name], self._stream)
        if not self._context.execute_async_v3(stream_handle=self._stream.handle):
            raise EngineError(f"TensorRT execution failed for {self.engine_path}")
        for spec in self._outputs:
            cuda.memcpy_dtoh_async(self._host[spec.name], self._device[spec.name], self._stream)
        self._stream.synchronize()
        return {spec.name: self._host[spec.name].copy() for spec in self._outputs}

    def close(self) -> None:
        context = getattr(self, "_context_cuda", None)
        if context is None:
            return
        self._context_cuda = None
        for buffer in self._device.values():
            buffer.free()
        self._device.clear()
        self._context = None
        self._engine = None
        context.pop()
        context.detach()
