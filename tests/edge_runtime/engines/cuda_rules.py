"""A model of pycuda's and TensorRT 10.3's documented rules, to test our call sequences on CPU.

Not a GPU emulator: it holds no kernels, only the bookkeeping the rules are about. The real
engine code (`TensorRTEngine`, `CudaThreadContext`, `BundlePolicy`, `trt_cache`) runs against
it unchanged, with `trt_rules.modules()` in `sys.modules` as `tensorrt` and `pycuda.driver`.
A "serialized engine" is a JSON file naming an ONNX graph; "executing" it runs that graph with
ONNX Runtime on the bytes in the model's device buffers, so wrong copies, sizes or bindings
give wrong numbers. This file holds pycuda's half and the shared state; `trt_rules` the rest.

Rules (each violation raises `RuleViolation` *and* is recorded, because our code may catch
it; `assert_clean()` fails a test on any recorded one):

pycuda
  P1  each thread has its own context stack; `Context.get_current()` is its top and
      `Context.pop()` removes whatever is on top of *this* thread's stack (empty: an error).
  P2  `Device.retain_primary_context()` returns the device's one primary context without
      pushing it; each retain is matched by one `detach()` on the same thread (pycuda skips,
      i.e. leaks, a detach from another thread); `make_context()` makes a new one and pushes it.
  P3  `Stream()`, `mem_alloc`, `pagelocked_empty`, `mem_get_info` need a current context and
      belong to it and to the calling thread.
  P4  async copies and stream calls need their stream's context current on the owner thread;
      `free()` activates the owner context itself (same thread only, and not once detached).
  P5  async copies use page-locked host memory, never more bytes than the device buffer holds.
  P6  nothing freed or detached is used again; a context is not detached while on a stack.
TensorRT
  T1  `deserialize_cuda_engine`, `create_execution_context`, `execute_async_v3` and the
      destruction of engines and execution contexts happen with the engine's CUDA context
      current (TensorRT frees through the runtime API, in the current context).
  T2  `execute_async_v3`: every I/O tensor has an address of a live buffer of at least
      volume x itemsize bytes in that context; the stream belongs to that context.
  T3  as the bindings' keep_alive does, an engine outlives its execution contexts and a
      runtime its engines (so their order is not ours to get wrong).
Stricter than pycuda, by choice: a context is pushed only on the thread that retained it.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from typing import Any

import numpy as np

TOTAL_BYTES = 8 << 30


class RuleViolation(AssertionError):
    pass


class CudaModel:
    """The shared state: per-thread stacks, live objects, violations."""

    def __init__(self) -> None:
        self.stacks: dict[int, list[Context]] = {}
        self.violations: list[str] = []
        self.primary_retains = 0
        self.live_allocations: set[Any] = set()
        self.live_trt: set[str] = set()
        self.handles = itertools.count(0x7F0000)

    def fail(self, rule: str, text: str) -> RuleViolation:
        message = f"{rule}: {text}"
        self.violations.append(message)
        return RuleViolation(message)

    def stack(self) -> list[Context]:
        return self.stacks.setdefault(threading.get_ident(), [])

    def current(self) -> Context | None:
        stack = self.stack()
        return stack[-1] if stack else None

    def require_current(self, rule: str, what: str, owner: Context | None = None) -> Context:
        current = self.current()
        if current is None:
            raise self.fail(rule, f"{what} with no CUDA context current on this thread")
        if owner is not None and current.handle != owner.handle:
            raise self.fail(rule, f"{what} with another context current than its own")
        return current

    def assert_clean(self) -> None:
        problems = list(self.violations)
        for ident, stack in self.stacks.items():
            if stack:
                problems.append(f"P1: thread {ident} left {len(stack)} context(s) on its stack")
        if self.primary_retains:
            problems.append(f"P2: primary context retained {self.primary_retains} more time(s)")
        if self.live_allocations:
            problems.append(f"P6: {len(self.live_allocations)} buffer(s) never freed")
        if self.live_trt:
            problems.append(f"T1: TensorRT objects never destroyed: {sorted(self.live_trt)}")
        assert not problems, "; ".join(problems)


class Context:
    """A pycuda Context object; each retain of a primary context is a new one, same handle."""

    def __init__(self, model: CudaModel, primary: bool, handle: int | None = None) -> None:
        self.model = model
        self.primary = primary
        self.handle = next(model.handles) if handle is None else handle
        self.owner = threading.get_ident()
        self.alive = True

    def push(self) -> None:
        if not self.alive:
            raise self.model.fail("P6", "push of a detached context")
        if threading.get_ident() != self.owner:
            raise self.model.fail("P2", "push of a context from another thread than its owner")
        self.model.stack().append(self)

    @staticmethod
    def pop() -> None:
        stack = MODEL.stack()
        if not stack:
            raise MODEL.fail("P1", "Context.pop() with an empty context stack")
        stack.pop()

    @staticmethod
    def get_current() -> Context | None:
        return MODEL.current()

    def detach(self) -> None:
        model = self.model
        if threading.get_ident() != self.owner:
            raise model.fail("P2", "detach from another thread (pycuda leaks the context)")
        if any(self in stack for stack in model.stacks.values()):
            raise model.fail("P6", "detach of a context still on a context stack")
        if self.primary:
            if model.primary_retains <= 0:
                raise model.fail("P2", "primary context released more often than retained")
            model.primary_retains -= 1
        self.alive = False


class Device:
    def __init__(self, index: int) -> None:
        self.index = index

    def name(self) -> str:
        return "Orin (rules model)"

    def compute_capability(self) -> tuple[int, int]:
        return (8, 7)

    def retain_primary_context(self) -> Context:
        handle = PRIMARY.setdefault(self.index, next(MODEL.handles))
        MODEL.primary_retains += 1
        return Context(MODEL, primary=True, handle=handle)

    def make_context(self) -> Context:
        context = Context(MODEL, primary=False)
        context.push()
        return context


class _Owned:
    """Something that belongs to the context current when it was made, and to that thread."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.context = MODEL.require_current("P3", what)
        self.thread = threading.get_ident()

    def require_usable(self, rule: str, action: str) -> None:
        if threading.get_ident() != self.thread:
            raise MODEL.fail(rule, f"{action} of a {self.what} from another thread")
        if not self.context.alive:
            raise MODEL.fail("P6", f"{action} of a {self.what} whose context was released")


class Stream(_Owned):
    def __init__(self) -> None:
        super().__init__("stream")
        self.handle = next(MODEL.handles)
        _STREAMS[self.handle] = self

    def synchronize(self) -> None:
        self.require_usable("P4", "synchronize")


class DeviceAllocation(_Owned):
    def __init__(self, nbytes: int) -> None:
        super().__init__("device buffer")
        self.data = bytearray(nbytes)
        self.address = next(MODEL.handles) << 12
        self.freed = False
        MODEL.live_allocations.add(self)
        ADDRESSES[self.address] = self

    def __int__(self) -> int:
        return self.address

    def free(self) -> None:
        self.require_usable("P4", "free")
        if self.freed:
            raise MODEL.fail("P6", "device buffer freed twice")
        self.freed = True
        MODEL.live_allocations.discard(self)


class HostAllocation(_Owned):
    """Page-locked memory; `pagelocked_empty` returns an array whose `.base` is this."""

    def __init__(self, shape: tuple[int, ...], dtype: Any) -> None:
        super().__init__("page-locked buffer")
        self._array = np.zeros(shape, dtype)
        self.__array_interface__ = self._array.__array_interface__
        self.freed = False
        MODEL.live_allocations.add(self)

    def free(self) -> None:
        self.require_usable("P4", "free")
        if self.freed:
            raise MODEL.fail("P6", "page-locked buffer freed twice")
        self.freed = True
        MODEL.live_allocations.discard(self)


def pagelocked_empty(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    return np.asarray(HostAllocation(tuple(shape), dtype))


def mem_alloc(nbytes: int) -> DeviceAllocation:
    return DeviceAllocation(int(nbytes))


def mem_get_info() -> tuple[int, int]:
    MODEL.require_current("P3", "mem_get_info")
    used = sum(len(a.data) for a in MODEL.live_allocations if isinstance(a, DeviceAllocation))
    return TOTAL_BYTES - used, TOTAL_BYTES


def _copy_checks(host: np.ndarray, device: Any, stream: Stream, what: str) -> DeviceAllocation:
    stream.require_usable("P4", what)
    MODEL.require_current("P4", what, owner=stream.context)
    if not isinstance(device, DeviceAllocation) or device.freed:
        raise MODEL.fail("P6", f"{what} with a freed or foreign device buffer")
    device.require_usable("P4", what)
    base = host.base
    if not isinstance(base, HostAllocation) or base.freed:
        raise MODEL.fail("P5", f"{what} from memory that is not page-locked")
    if host.nbytes > len(device.data):
        raise MODEL.fail("P5", f"{what} of {host.nbytes} bytes into {len(device.data)}")
    return device


def memcpy_htod_async(device: Any, host: np.ndarray, stream: Stream) -> None:
    target = _copy_checks(host, device, stream, "memcpy_htod_async")
    target.data[: host.nbytes] = host.tobytes()


def memcpy_dtoh_async(host: np.ndarray, device: Any, stream: Stream) -> None:
    source = _copy_checks(host, device, stream, "memcpy_dtoh_async")
    host.reshape(-1).view(np.uint8)[:] = np.frombuffer(source.data[: host.nbytes], np.uint8)


def init() -> None:
    pass


# -- state ---------------------------------------------------------------------------------------

__version__ = "10.3.0.30"  # the TensorRT version the model claims to be
MODEL = CudaModel()
PRIMARY: dict[int, int] = {}  # device index -> primary context handle
ADDRESSES: dict[int, DeviceAllocation] = {}
_STREAMS: weakref.WeakValueDictionary[int, Stream] = weakref.WeakValueDictionary()


def reset() -> CudaModel:
    """A fresh model (one per test)."""
    global MODEL
    MODEL = CudaModel()
    PRIMARY.clear()
    ADDRESSES.clear()
    return MODEL
