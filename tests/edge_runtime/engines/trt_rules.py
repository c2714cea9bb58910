"""The TensorRT half of the rules model (rules T1-T3 in `cuda_rules`), and its installation.

`modules()` gives `tensorrt`, `pycuda` and `pycuda.driver` for `sys.modules`; `write_engine`
writes a "serialized engine" this model deserializes: JSON naming an ONNX graph and its I/O.
"""

from __future__ import annotations

import enum
import importlib.machinery
import json
import sys
import types
import weakref
from pathlib import Path
from typing import Any

import cuda_rules as cr
import numpy as np

MAGIC = "cuda-rules-engine"
__version__ = cr.__version__


# -- TensorRT ----------------------------------------------------------------------------------


class DataType(enum.Enum):
    FLOAT = "float32"
    HALF = "float16"
    INT32 = "int32"
    INT64 = "int64"
    BOOL = "bool"


class TensorIOMode(enum.Enum):
    INPUT = 1
    OUTPUT = 2


class Logger:
    WARNING = 2

    def __init__(self, severity: int) -> None:
        self.severity = severity


def nptype(dtype: DataType) -> type:
    return np.dtype(dtype.value).type


def volume(shape: Any) -> int:
    return int(np.prod(tuple(shape), dtype=np.int64))


def _track(obj: object, name: str) -> None:
    """Destroying a TensorRT object frees device memory: it needs its context current (T1)."""
    context = cr.MODEL.require_current("T1", f"creating a TensorRT {name}")
    label = f"{name}@{id(obj):x}"
    cr.MODEL.live_trt.add(label)

    def destroyed() -> None:
        cr.MODEL.live_trt.discard(label)
        current = cr.MODEL.current()
        if current is None or current.handle != context.handle:
            cr.MODEL.fail("T1", f"TensorRT {name} destroyed without its CUDA context current")

    weakref.finalize(obj, destroyed)


class Runtime:
    def __init__(self, logger: Logger) -> None:
        self.logger = logger

    def deserialize_cuda_engine(self, blob: bytes) -> ICudaEngine | None:
        cr.MODEL.require_current("T1", "deserialize_cuda_engine")
        try:
            spec = json.loads(blob)
        except ValueError:
            return None
        if spec.get("magic") != MAGIC or spec.get("tensorrt") != __version__:
            return None  # TensorRT returns None for another version's or GPU's engine
        return ICudaEngine(self, spec)


class ICudaEngine:
    def __init__(self, runtime: Runtime, spec: dict[str, Any]) -> None:
        self.runtime = runtime  # keep_alive (T3)
        self.context = cr.MODEL.current()
        self.io = [(n, tuple(s), DataType(d), TensorIOMode.INPUT) for n, s, d in spec["inputs"]]
        self.io += [(n, tuple(s), DataType(d), TensorIOMode.OUTPUT) for n, s, d in spec["outputs"]]
        self.onnx = spec["onnx"]
        self.activation_bytes = int(spec.get("activation_bytes", 0))
        _track(self, "engine")

    @property
    def device_memory_size_v2(self) -> int:  # TensorRT >= 10.1: what one execution context takes
        return self.activation_bytes

    @property
    def num_io_tensors(self) -> int:
        return len(self.io)

    def _entry(self, name: str) -> tuple[str, tuple[int, ...], DataType, TensorIOMode]:
        return next(e for e in self.io if e[0] == name)

    def get_tensor_name(self, index: int) -> str:
        return self.io[index][0]

    def get_tensor_shape(self, name: str) -> tuple[int, ...]:
        return self._entry(name)[1]

    def get_tensor_dtype(self, name: str) -> DataType:
        return self._entry(name)[2]

    def get_tensor_mode(self, name: str) -> TensorIOMode:
        return self._entry(name)[3]

    def create_execution_context(self) -> IExecutionContext:
        cr.MODEL.require_current("T1", "create_execution_context", owner=self.context)
        return IExecutionContext(self)


class IExecutionContext:
    def __init__(self, engine: ICudaEngine) -> None:
        self.engine = engine  # keep_alive (T3)
        self.addresses: dict[str, int] = {}
        self._session: Any = None
        self._activation = (
            cr.DeviceAllocation(engine.activation_bytes) if engine.activation_bytes else None
        )
        _track(self, "execution context")
        if self._activation is not None:  # freed with the context, as TensorRT does
            weakref.finalize(self, cr.MODEL.live_allocations.discard, self._activation)

    def set_tensor_address(self, name: str, address: int) -> bool:
        self.addresses[name] = int(address)
        return True

    def execute_async_v3(self, stream_handle: int) -> bool:
        engine = self.engine
        cr.MODEL.require_current("T1", "execute_async_v3", owner=engine.context)
        stream = cr._STREAMS.get(int(stream_handle))
        if stream is None or stream.context.handle != engine.context.handle:
            raise cr.MODEL.fail("T2", "execute_async_v3 on a stream of another context")
        buffers = {}
        for name, shape, dtype, _mode in engine.io:
            buffer = cr.ADDRESSES.get(self.addresses.get(name, -1))
            need = volume(shape) * np.dtype(dtype.value).itemsize
            if buffer is None or buffer.freed or buffer.context.handle != engine.context.handle:
                raise cr.MODEL.fail("T2", f"tensor '{name}' has no live address in this context")
            if len(buffer.data) < need:
                raise cr.MODEL.fail(
                    "T2", f"tensor '{name}' buffer {len(buffer.data)} < {need} bytes"
                )
            buffers[name] = buffer
        self._run(buffers)
        return True

    def _run(self, buffers: dict[str, cr.DeviceAllocation]) -> None:
        import onnxruntime as ort

        if self._session is None:
            self._session = ort.InferenceSession(
                self.engine.onnx, providers=["CPUExecutionProvider"]
            )
        feeds = {}
        for name, shape, dtype, mode in self.engine.io:
            if mode == TensorIOMode.INPUT:
                size = volume(shape) * np.dtype(dtype.value).itemsize
                raw = bytes(buffers[name].data[:size])
                feeds[name] = np.frombuffer(raw, dtype.value).reshape(shape)
        outputs = [n for n, _s, _d, m in self.engine.io if m == TensorIOMode.OUTPUT]
        for name, value in zip(outputs, self._session.run(outputs, feeds)):
            data = np.ascontiguousarray(value).tobytes()
            buffers[name].data[: len(data)] = data


def modules() -> dict[str, types.ModuleType]:
    """`tensorrt`, `pycuda` and `pycuda.driver` for `sys.modules`, backed by this model."""
    this = sys.modules[__name__]
    trt = types.ModuleType("tensorrt")
    for name in ("Runtime", "Logger", "DataType", "TensorIOMode", "nptype", "volume"):
        setattr(trt, name, getattr(this, name))
    trt.__version__ = __version__
    driver = types.ModuleType("pycuda.driver")
    for name in ("init", "Device", "Context", "Stream", "mem_alloc", "mem_get_info",
                 "pagelocked_empty", "memcpy_htod_async", "memcpy_dtoh_async"):  # fmt: skip
        setattr(driver, name, getattr(cr, name))
    pycuda = types.ModuleType("pycuda")
    pycuda.driver = driver  # type: ignore[attr-defined]
    for module in (trt, pycuda, driver):
        module.__spec__ = importlib.machinery.ModuleSpec(module.__name__, None)
    return {"tensorrt": trt, "pycuda": pycuda, "pycuda.driver": driver}


def write_engine(
    path: Path, onnx: Path, inputs: list, outputs: list, activation_bytes: int = 0
) -> None:
    """A serialized engine for the model: the ONNX graph and its I/O (name, shape, dtype)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"magic": MAGIC, "tensorrt": __version__, "onnx": str(onnx), "inputs": inputs,
            "outputs": outputs, "activation_bytes": activation_bytes}  # fmt: skip
    path.write_text(json.dumps(body))
