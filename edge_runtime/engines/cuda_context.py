"""One CUDA context per inference thread: the device's primary context, retained once.

Why the primary context: TensorRT allocates and frees through the CUDA *runtime* API, which
always works in the device's primary context; pycuda's `make_context()` creates a second,
private context, so a TensorRT engine built under it mixes two contexts, and a two-engine
bundle stacked two of them (running the encoder with the policy's context current, and a
`close()` popping whatever lay on top). Here every engine on a thread shares one
`CudaThreadContext`: the primary context retained once (`Device.retain_primary_context`, which
does not push it), one stream, and a count of the engines using it; the last `release()`
drops the stream and detaches (releases) the primary context, so engines close in any order.

Why push and pop around every use (`active()`): the context is never left on the thread's
context stack between calls, so another library's context on that stack is neither used by us
nor popped by us, and a pop only ever removes what the same scope pushed (checked, not
assumed). pycuda contexts, streams and allocations belong to the thread that made them
(pycuda refuses to activate an out-of-thread context), so every call checks the thread first
and says so in one sentence rather than corrupting another thread's stack.

pycuda is passed in (the module `import_tensorrt` returned), never imported here, so this
module is importable anywhere and its call sequences are tested without a GPU.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any

from edge_runtime.errors import EngineError

log = logging.getLogger(__name__)

_per_thread = threading.local()  # .contexts: {device_index: CudaThreadContext}


class CudaThreadContext:
    """The primary context of one device and one stream, for the engines of one thread."""

    def __init__(self, cuda: Any, device_index: int = 0) -> None:
        self._cuda = cuda
        self.device_index = device_index
        self.owner = threading.get_ident()
        self.users = 0
        cuda.init()
        self.device = cuda.Device(device_index)
        self._context: Any = self.device.retain_primary_context()  # not pushed
        try:
            with self.active():
                self.stream: Any = cuda.Stream()
        except BaseException:
            self._context.detach()
            self._context = None
            raise

    # -- the registry: one per thread and device -----------------------------------------------

    @classmethod
    def acquire(cls, cuda: Any, device_index: int = 0) -> CudaThreadContext:
        """This thread's context for `device_index`, created on first use; one more user."""
        contexts: dict[int, CudaThreadContext] = _per_thread.__dict__.setdefault("contexts", {})
        shared = contexts.get(device_index)
        if shared is None:
            shared = cls(cuda, device_index)
            contexts[device_index] = shared
        shared.users += 1
        return shared

    def release(self) -> None:
        """One user fewer; the last one drops the stream and releases the primary context."""
        self.check_thread("release")
        if self.users <= 0:
            return
        self.users -= 1
        if self.users:
            return
        try:
            with self.active():
                self.stream.synchronize()  # nothing of ours may still run on it
                self.stream = None  # destroyed while its context is current
        finally:
            context, self._context = self._context, None
            _per_thread.__dict__.get("contexts", {}).pop(self.device_index, None)
            context.detach()  # releases the retained primary context (it is not on the stack)

    # -- activation ----------------------------------------------------------------------------

    @property
    def handle(self) -> int:
        if self._context is None:
            raise EngineError("the CUDA context of this engine was already released")
        return int(self._context.handle)

    def check_thread(self, what: str) -> None:
        if threading.get_ident() != self.owner:
            raise EngineError(
                f"TensorRT {what} was called from another thread than the one that opened the "
                "engine; CUDA contexts, streams and buffers belong to the inference thread"
            )

    def is_current(self) -> bool:
        current = self._cuda.Context.get_current()
        return current is not None and int(current.handle) == self.handle

    @contextlib.contextmanager
    def active(self) -> Iterator[None]:
        """This context current for the block: pushed if it is not on top, then popped again."""
        self.check_thread("use")
        pushed = not self.is_current()
        if pushed:
            self._context.push()
        try:
            yield
        finally:
            if pushed:
                if not self.is_current():
                    # Someone pushed inside our block and left it there: popping now would
                    # remove *their* context and leave ours current. Refuse, loudly.
                    raise EngineError(
                        "the CUDA context stack changed inside a TensorRT call (a context was "
                        "pushed and not popped); refusing to pop a context that is not ours"
                    )
                self._cuda.Context.pop()

    def free_memory_bytes(self) -> int:
        """Free device memory now (on a Jetson: the RAM the GPU and CPU share)."""
        with self.active():
            free, _total = self._cuda.mem_get_info()
        return int(free)
