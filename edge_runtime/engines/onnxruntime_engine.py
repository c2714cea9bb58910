"""ONNX Runtime engine: the CPU path everywhere, CUDA/TensorRT providers where present.

Intra-op threads default to 1: on a 2-core robot computer the control thread needs the other
core, and the benchmark shows the policy latency barely improves with a second thread while the
loop's lateness tail grows. Inter-op parallelism is off for the same reason.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_runtime.engines.base import Engine, TensorSpec
from edge_runtime.engines.ort_options import session_options
from edge_runtime.errors import BackendUnavailableError, EngineError

_ORT_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(uint8)": np.uint8,
    "tensor(bool)": np.bool_,
}


class OnnxRuntimeEngine(Engine):
    backend = "onnxruntime"

    def __init__(
        self,
        model_path: str | Path,
        intra_op_threads: int = 1,
        providers: list[str] | None = None,
    ) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - onnxruntime is a base dependency
            raise BackendUnavailableError(
                "onnxruntime is not installed; run `pip install onnxruntime`"
            ) from exc
        self.model_path = Path(model_path)
        if not self.model_path.is_file():
            raise EngineError(f"model {self.model_path} does not exist")
        options = session_options(intra_op_threads)
        available = ort.get_available_providers()
        chosen = [p for p in (providers or ["CPUExecutionProvider"]) if p in available]
        try:
            self._session = ort.InferenceSession(
                str(self.model_path), sess_options=options, providers=chosen or None
            )
        except Exception as exc:  # ORT raises its own Fail/InvalidGraph types
            raise EngineError(
                f"ONNX Runtime cannot load {self.model_path}: {str(exc).splitlines()[0]}"
            ) from exc
        self._inputs = [_spec(a, self.model_path) for a in self._session.get_inputs()]
        self._outputs = [_spec(a, self.model_path) for a in self._session.get_outputs()]
        self._output_names = [s.name for s in self._outputs]
        self.providers = self._session.get_providers()

    def _infer(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        results = self._session.run(self._output_names, feeds)
        return dict(zip(self._output_names, results))


def _spec(arg: object, path: Path) -> TensorSpec:
    name = arg.name  # type: ignore[attr-defined]
    shape = arg.shape  # type: ignore[attr-defined]
    if any(not isinstance(d, int) or d <= 0 for d in shape):
        raise EngineError(
            f"{path}: tensor '{name}' has dynamic shape {shape}; export with static shapes "
            "(batch 1)"
        )
    dtype = _ORT_DTYPES.get(arg.type)  # type: ignore[attr-defined]
    if dtype is None:
        raise EngineError(f"{path}: tensor '{name}' has unsupported type {arg.type}")  # type: ignore[attr-defined]
    return TensorSpec(name=name, shape=tuple(shape), dtype=np.dtype(dtype))
