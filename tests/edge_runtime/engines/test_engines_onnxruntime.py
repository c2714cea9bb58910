"""The `Engine` port on ONNX Runtime: specs read once from the model, inputs checked per call."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge_runtime.engines import TensorSpec, open_engine
from edge_runtime.errors import EngineError


def test_engines_onnxruntime_specs_and_infer(tiny_bundle: Path) -> None:
    with open_engine(tiny_bundle / "models/policy.onnx", "onnxruntime") as engine:
        assert engine.backend == "onnxruntime"
        assert [s.name for s in engine.inputs] == ["latent4", "joints"]
        assert engine.inputs[1] == TensorSpec("joints", (1, 3), np.dtype(np.float32))
        assert [s.describe() for s in engine.outputs] == ["actions[1, 4, 3]:float32"]
        # float64 feeds are converted to the model's dtype; outputs come back by name.
        result = engine.infer({"latent4": np.zeros((1, 4)), "joints": np.zeros((1, 3))})
        assert list(result) == ["actions"]
        assert result["actions"].shape == (1, 4, 3)
        with pytest.raises(EngineError, match=r"expects inputs \['joints', 'latent4'\]"):
            engine.infer({"latent4": np.zeros((1, 4))})
        with pytest.raises(EngineError, match=r"input 'joints' has shape \[1, 2\]"):
            engine.infer({"latent4": np.zeros((1, 4)), "joints": np.zeros((1, 2))})
