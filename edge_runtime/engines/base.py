"""The `Engine` port: named tensors in, named tensors out.

Implementations: ONNX Runtime (CPU anywhere, CUDA/TensorRT providers where present) and
TensorRT (Jetson). An engine is created and used on the inference worker thread only: TensorRT
and pycuda contexts belong to the thread that made them.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from types import TracebackType

import numpy as np

from edge_runtime.errors import EngineError


@dataclass(frozen=True)
class TensorSpec:
    """Name, static shape and numpy dtype of one engine input or output (batch 1)."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype

    def describe(self) -> str:
        return f"{self.name}{list(self.shape)}:{np.dtype(self.dtype).name}"


class Engine(abc.ABC):
    """Runs one model. `infer` validates names, shapes and dtypes, then calls `_infer`.

    Every backend reads its tensor specs once when it loads the model and stores them in
    `_inputs` / `_outputs`; the properties below are the one place they are read from.
    """

    backend: str = "abstract"
    _inputs: list[TensorSpec]
    _outputs: list[TensorSpec]

    @property
    def inputs(self) -> list[TensorSpec]:
        """The model's inputs, in the model's order."""
        return self._inputs

    @property
    def outputs(self) -> list[TensorSpec]:
        """The model's outputs, in the model's order (the order `infer` returns them in)."""
        return self._outputs

    def infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        expected = {spec.name: spec for spec in self.inputs}
        if set(feeds) != set(expected):
            raise EngineError(
                f"{self.backend} engine expects inputs {sorted(expected)}, got {sorted(feeds)}; "
                "check the bundle manifest's input names"
            )
        prepared: dict[str, np.ndarray] = {}
        for name, spec in expected.items():
            array = np.asarray(feeds[name])
            if tuple(array.shape) != spec.shape:
                raise EngineError(
                    f"input '{name}' has shape {list(array.shape)}, the model expects "
                    f"{list(spec.shape)}"
                )
            prepared[name] = np.ascontiguousarray(array, dtype=spec.dtype)
        return self._infer(prepared)

    @abc.abstractmethod
    def _infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Implementation hook: feeds are validated, contiguous and of the right dtype."""

    def close(self) -> None:  # noqa: B027 - optional hook, most engines own nothing to free
        """Release device memory. Idempotent."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
