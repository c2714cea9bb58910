"""`BundlePolicy`: a bundle's models chained into one `act(frame, joints) -> actions` call.

Each role's inputs name their source (an observation or another role's output), so roles run
in dependency order without the runtime knowing the models. `extra_roles` (the world model's
predictor and rollout) get engines on the same thread but are run by their users, not `run`.
Create and use a BundlePolicy on one thread only (the inference worker): TensorRT engines
belong to the thread that made them.
"""

from __future__ import annotations

import numpy as np

from edge_runtime.bundle.manifest import role_order
from edge_runtime.bundle.reader import Bundle
from edge_runtime.engines import DEFAULT_ENGINE_CACHE, Engine, open_engine, resolve_backend
from edge_runtime.engines.variant_choice import choose_variant
from edge_runtime.errors import BundleError
from edge_runtime.pipeline.preprocess import FramePreprocessor
from edge_runtime.sensors.base import Frame


class BundlePolicy:
    def __init__(
        self,
        bundle: Bundle,
        backend: str = "auto",
        intra_op_threads: int = 1,
        engine_cache: str = DEFAULT_ENGINE_CACHE,
        roles: tuple[str, ...] | None = None,
        extra_roles: tuple[str, ...] = (),
    ) -> None:
        self.bundle = bundle
        manifest = bundle.manifest
        self.action = manifest.action
        self.preprocessor = FramePreprocessor(manifest.preprocessing)
        inputs = {role: spec.inputs for role, spec in manifest.roles.items()}
        wanted = roles or (self.action.output.split(".", 1)[0],)
        self.order = role_order(inputs, wanted)
        self.engines: dict[str, Engine] = {}
        self.precisions: dict[str, str] = {}  # what each role runs in (variants may differ)
        roles_to_open = (*self.order, *(r for r in extra_roles if r not in self.order))
        models = [
            (bundle.path(s.file), s.precision, manifest.files[s.file])
            for s in (manifest.roles[r] for r in roles_to_open)
        ]
        self.backend = resolve_backend(backend, models, engine_cache)  # one backend for all
        try:
            for role in roles_to_open:
                chosen = choose_variant(bundle, role, self.backend, engine_cache, intra_op_threads)
                engine = open_engine(
                    bundle.path(chosen.file),
                    self.backend,
                    precision=chosen.precision,
                    intra_op_threads=intra_op_threads,
                    engine_cache=engine_cache,
                    onnx_sha256=chosen.sha256,
                )
                self.precisions[role] = chosen.precision
                self._check_io(role, engine)
                self.engines[role] = engine
        except BaseException:
            self.close()
            raise

    def gpu_memory_mb(self) -> dict[str, float]:
        """Device memory each engine took when it loaded, by role (TensorRT; {} on the CPU)."""
        return {
            role: round(engine.gpu_memory_bytes / 1e6, 1)
            for role, engine in self.engines.items()
            if hasattr(engine, "gpu_memory_bytes")
        }

    def _check_io(self, role: str, engine: Engine) -> None:
        spec = self.bundle.manifest.roles[role]
        declared = {t.name: tuple(t.shape) for t in (*spec.inputs, *spec.outputs)}
        actual = {t.name: tuple(t.shape) for t in (*engine.inputs, *engine.outputs)}
        if declared != actual:
            raise BundleError(
                f"roles.{role}: the manifest declares tensors {declared} but the model has "
                f"{actual}; re-export the bundle"
            )

    def run(self, observations: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run every role in order; returns all outputs keyed `role.name` (and observations)."""
        values = dict(observations)
        for role in self.order:
            spec = self.bundle.manifest.roles[role]
            feeds = {t.name: values[t.source] for t in spec.inputs}
            for name, array in self.engines[role].infer(feeds).items():
                values[f"{role}.{name}"] = array
        return values

    def act(self, frame: Frame, joint_positions: np.ndarray) -> np.ndarray:
        """The action chunk (H, J) in radians for this observation."""
        return self.act_with_values(frame, joint_positions)[0]

    def act_with_values(
        self, frame: Frame, joint_positions: np.ndarray
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The chunk, and every value computed on the way (latents for the world model)."""
        values = self.run(self.preprocessor.observations(frame, joint_positions))
        actions = np.asarray(values[self.action.output], dtype=np.float64)
        chunk = actions.reshape(self.action.chunk_length, len(self.action.joint_names))
        return chunk, values

    def close(self) -> None:
        for engine in self.engines.values():
            engine.close()
        self.engines.clear()
