"""TensorRT engine (Jetson), written to the TensorRT 10.3 API with pycuda.

Every CUDA call happens on the thread that opened the engine, inside that thread's one CUDA
context (`cuda_context.CudaThreadContext`: the device's primary context, which TensorRT's own
runtime-API allocations use too, and one stream shared by every engine of the thread). Host
buffers are page-locked so copies run asynchronously on that stream; the only synchronisation
per inference is `stream.synchronize()` after the device-to-host copies. Engines are never
built here (that takes minutes): `edgerun build` makes them beforehand.

Teardown order follows TensorRT's rule (execution context, then engine, then runtime) and
frees every buffer with the context current; the shared context is released by the last
engine to close, so a bundle's engines close in any order.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.engines.base import Engine, TensorSpec
from edge_runtime.engines.cuda_context import CudaThreadContext
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


def context_memory_bytes(engine: Any) -> int:
    """Device memory one execution context of `engine` takes (activations, scratch).

    TensorRT's own figure, beside the free-memory difference `gpu_memory_bytes` (which on a
    Jetson's shared memory also moves with other processes): `device_memory_size_v2` from
    TensorRT 10.1, `device_memory_size` (deprecated there) before; 0 if neither exists.
    """
    for name in ("device_memory_size_v2", "device_memory_size"):
        value = getattr(engine, name, None)
        if value is not None:
            return int(value)
    return 0


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
        self._inputs, self._outputs = [], []
        self._host: dict[str, np.ndarray] = {}
        self._device: dict[str, Any] = {}
        self._execution: Any = None
        self._engine: Any = None
        self._runtime: Any = None
        self.gpu_memory_bytes = 0  # device memory this engine took when it loaded
        self.context_memory_bytes = 0  # of which its execution context's, as TensorRT says
        self._shared: CudaThreadContext | None = CudaThreadContext.acquire(cuda, device_index)
        try:
            free_before = self._shared.free_memory_bytes()
            with self._shared.active():
                self._load(trt, cuda)
            self.gpu_memory_bytes = max(0, free_before - self._shared.free_memory_bytes())
        except BaseException:
            self.close()
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
        self._execution = engine.create_execution_context()
        self.context_memory_bytes = context_memory_bytes(engine)
        for index in range(engine.num_io_tensors):
            name = engine.get_tensor_name(index)
            shape = tuple(int(d) for d in engine.get_tensor_shape(name))
            if any(d < 0 for d in shape):
                raise EngineError(
                    f"{self.engine_path}: tensor '{name}' has a dynamic shape {shape}"
                )
            dtype = np.dtype(trt.nptype(engine.get_tensor_dtype(name)))
            nbytes = int(trt.volume(shape)) * dtype.itemsize
            host = cuda.pagelocked_empty(shape, dtype)
            self._host[name] = host
            self._device[name] = cuda.mem_alloc(nbytes)
            if host.nbytes != nbytes:  # never copy more than the device buffer holds
                raise EngineError(f"{self.engine_path}: host buffer of '{name}' has wrong size")
            if not self._execution.set_tensor_address(name, int(self._device[name])):
                raise EngineError(f"{self.engine_path}: TensorRT refused the buffer of '{name}'")
            spec = TensorSpec(name=name, shape=shape, dtype=dtype)
            is_input = engine.get_tensor_mode(name) == trt.TensorIOMode.INPUT
            (self._inputs if is_input else self._outputs).append(spec)

    def _infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        shared = self._shared
        if shared is None:
            raise EngineError(f"the TensorRT engine {self.engine_path.name} is closed")
        cuda, stream = self._cuda, shared.stream
        with shared.active():
            for spec in self._inputs:
                np.copyto(self._host[spec.name], feeds[spec.name])
                cuda.memcpy_htod_async(self._device[spec.name], self._host[spec.name], stream)
            if not self._execution.execute_async_v3(stream_handle=stream.handle):
                raise EngineError(f"TensorRT execution failed for {self.engine_path}")
            for spec in self._outputs:
                cuda.memcpy_dtoh_async(self._host[spec.name], self._device[spec.name], stream)
            stream.synchronize()
        return {spec.name: self._host[spec.name].copy() for spec in self._outputs}

    def close(self) -> None:
        """Free this engine's buffers and objects in order; the last engine releases the context.

        Must run on the thread that opened the engine (an `EngineError` says so otherwise,
        and nothing is freed from the wrong thread). Idempotent.
        """
        shared = self._shared
        if shared is None:
            return
        shared.check_thread("close")
        self._shared = None
        try:
            with shared.active():
                shared.stream.synchronize()  # no copy or execution may still use the buffers
                self._execution = None  # TensorRT: execution context, then engine, then runtime
                self._engine = None
                self._runtime = None
                for buffer in self._device.values():
                    buffer.free()
                for host in self._host.values():
                    host.base.free()  # page-locked memory belongs to the context too
                self._device.clear()
                self._host.clear()
        finally:
            shared.release()
