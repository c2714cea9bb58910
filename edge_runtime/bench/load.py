"""The inference load the loop benchmark runs beside the control thread.

A camera thread publishes 640x480 RGB-D frames at 30 fps into a `LatestSlot`; an inference
worker takes the newest one, preprocesses it in Python/numpy the way a robot pipeline does
(normalize, area-resize, depth to metres, hole masks, a per-row pass in pure Python), runs an
ONNX Runtime conv net sized to about 25 ms on one intra-op thread, post-processes the output
into an action chunk in Python and publishes it into another `LatestSlot`.

The mix matters: ONNX Runtime and large numpy operations release the GIL, pure-Python code
holds it until the switch interval forces it out. `kind` selects a part of the load so the
benchmark can show which part hurts the control thread (docs/perf/loop.md).
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.errors import EngineError
from edge_runtime.ipc.latest_slot import LatestSlot

log = logging.getLogger(__name__)

LOAD_KINDS = ("full", "ort", "python", "none")
HEIGHT, WIDTH = 480, 640
OBS_SHAPE = (1, 4, HEIGHT // 4, WIDTH // 4)  # RGB + depth at quarter resolution
HORIZON, JOINTS = 16, 6
CHANNELS = 16
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


@dataclass
class RgbdFrame:
    color: np.ndarray  # (480, 640, 3) uint8
    depth: np.ndarray  # (480, 640) uint16, millimetres
    stamp_ns: int


def build_conv_model(path: Path, layers: int, seed: int = 0) -> Path:
    """Write a conv stack (4 -> 16 channels, `layers` 3x3 convs, pool, linear head) to `path`."""
    try:
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError as exc:  # onnx is only needed to generate the benchmark model
        raise EngineError(
            "the loop benchmark generates its model with the 'onnx' package, which is not "
            "installed: pip install 'edge-runtime[sim]' (or pip install onnx)"
        ) from exc
    rng = np.random.default_rng(seed)

    def conv_weight(cin: int) -> np.ndarray:  # He init keeps activations O(1): no denormals
        w = rng.normal(0, np.sqrt(2 / (9 * cin)), (CHANNELS, cin, 3, 3))
        return w.astype(np.float32)

    inits = [numpy_helper.from_array(conv_weight(4), "w0")]
    nodes = [helper.make_node("Conv", ["obs", "w0"], ["c0"], pads=[1, 1, 1, 1])]
    nodes.append(helper.make_node("Relu", ["c0"], ["r0"]))
    for i in range(1, layers + 1):
        inits.append(numpy_helper.from_array(conv_weight(CHANNELS), f"w{i}"))
        nodes.append(helper.make_node("Conv", [f"r{i - 1}", f"w{i}"], [f"c{i}"], pads=[1] * 4))
        nodes.append(helper.make_node("Relu", [f"c{i}"], [f"r{i}"]))
    head = rng.normal(0, 0.1, (CHANNELS, HORIZON * JOINTS)).astype(np.float32)
    inits += [
        numpy_helper.from_array(head, "head"),
        numpy_helper.from_array(np.array([1, HORIZON, JOINTS], dtype=np.int64), "shape"),
    ]
    nodes += [
        helper.make_node("GlobalAveragePool", [f"r{layers}"], ["pool"]),
        helper.make_node("Flatten", ["pool"], ["flat"]),
        helper.make_node("MatMul", ["flat", "head"], ["lin"]),
        helper.make_node("Tanh", ["lin"], ["act"]),
        helper.make_node("Reshape", ["act", "shape"], ["actions"]),
    ]
    graph = helper.make_graph(
        nodes,
        "loop_bench_load",
        [helper.make_tensor_value_info("obs", TensorProto.FLOAT, list(OBS_SHAPE))],
        [helper.make_tensor_value_info("actions", TensorProto.FLOAT, [1, HORIZON, JOINTS])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # readable by every onnxruntime >= 1.17
    onnx.save(model, str(path))
    return path


def make_session(path: Path):  # -> onnxruntime.InferenceSession
    import onnxruntime as ort

    from edge_runtime.engines.ort_options import session_options

    # The runtime's own options: one core for inference, no spinning.
    options = session_options(threads=1, quiet=True)
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _median_run_s(session, runs: int = 5) -> float:
    obs = np.zeros(OBS_SHAPE, dtype=np.float32)
    session.run(None, {"obs": obs})
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        session.run(None, {"obs": obs})
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def sized_model(workdir: Path, target_ms: float = 25.0) -> tuple[Path, int, float]:
    """Build a model that takes about `target_ms` here; returns (path, layers, measured ms).

    Time per conv layer is measured on this machine (1 layer vs 9 layers), so the load is
    the same ~25 ms on a laptop, a loaded CI box or a Jetson's ARM cores.
    """
    t1 = _median_run_s(make_session(build_conv_model(workdir / "l1.onnx", 1)))
    t9 = _median_run_s(make_session(build_conv_model(workdir / "l9.onnx", 9)))
    per_layer = max((t9 - t1) / 8, 1e-5)
    layers = int(np.clip(round((target_ms / 1e3 - (t1 - per_layer)) / per_layer), 1, 400))
    path = build_conv_model(workdir / "load.onnx", layers)
    measured_s = _median_run_s(make_session(path))
    if abs(measured_s * 1e3 - target_ms) > 0.2 * target_ms:  # one correction (noisy machine)
        layers = max(1, round(layers * target_ms / (measured_s * 1e3)))
        path = build_conv_model(workdir / "load.onnx", layers)
        measured_s = _median_run_s(make_session(path))
    return path, layers, measured_s * 1e3


def preprocess(frame: RgbdFrame, depth_scale_m: float = 0.001) -> np.ndarray:
    """640x480 RGB-D -> (1, 4, 120, 160) float32, the way a robot pipeline does it."""
    rgb = frame.color[::2, ::2].astype(np.float32) * (1.0 / 255.0)  # 240x320
    rgb = ((rgb - MEAN) / STD).reshape(HEIGHT // 4, 2, WIDTH // 4, 2, 3).mean(axis=(1, 3))
    depth_m = frame.depth.astype(np.float32) * depth_scale_m
    valid = (depth_m > 0.1) & (depth_m < 4.0)
    depth_m = np.where(valid, depth_m, np.float32(0.0))[::4, ::4]
    # A pure-Python pass (per-row valid-depth counts for a quality check): holds the GIL
    # for a millisecond or two, like the dict/list handling robot code does per frame.
    valid_per_row = [sum(1 for v in row if v > 0.0) for row in depth_m.tolist()]
    if sum(valid_per_row) < 0:  # never true; keeps the pass meaningful
        raise AssertionError
    obs = np.concatenate((rgb.transpose(2, 0, 1), depth_m[None]), axis=0)
    return np.ascontiguousarray(obs[None], dtype=np.float32)


def postprocess(actions: np.ndarray, stamp_ns: int, dt_ns: int) -> list[dict[str, object]]:
    """Action chunk to per-step dicts, as Python robot code commonly does: holds the GIL."""
    chunk = []
    for k, row in enumerate(actions.reshape(HORIZON, JOINTS).tolist()):
        chunk.append({"t_ns": stamp_ns + k * dt_ns, "q": [0.5 * a for a in row]})
    return chunk


class InferenceLoad:
    """Camera thread + inference worker; `chunks` holds the newest action chunk as an array."""

    def __init__(
        self,
        kind: str = "full",
        target_ms: float = 25.0,
        fps: float = 30.0,
        cpus: set[int] | None = None,
    ) -> None:
        if kind not in LOAD_KINDS:
            raise ValueError(f"load must be one of {', '.join(LOAD_KINDS)}, got {kind!r}")
        self.kind = kind
        self.target_ms = target_ms
        self.fps = fps
        self.cpus = cpus  # keep the load's threads off the control thread's CPU
        self.frames: LatestSlot[RgbdFrame] = LatestSlot()
        self.chunks: LatestSlot[np.ndarray] = LatestSlot()
        self.sinks: list[Any] = []  # more slots (e.g. a SharedArraySlot) fed the same chunks
        self.infer_ms: list[float] = []
        self.layers = 0
        self.model_ms = 0.0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._session = None

    def start(self) -> InferenceLoad:
        if self.kind == "none":
            return self
        if self.kind in ("full", "ort"):
            self._tmp = tempfile.TemporaryDirectory(prefix="edgerun-bench-")
            path, self.layers, self.model_ms = sized_model(Path(self._tmp.name), self.target_ms)
            self._session = make_session(path)
            log.info("load model: %d conv layers, %.1f ms per run", self.layers, self.model_ms)
        for target, name in ((self._camera, "bench-camera"), (self._worker, "bench-inference")):
            thread = threading.Thread(target=self._pinned, args=(target,), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        self._threads.clear()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def _pinned(self, body: Callable[[], None]) -> None:
        if self.cpus:
            os.sched_setaffinity(0, self.cpus)  # this thread only (pid 0 = calling thread)
        body()

    def _camera(self) -> None:
        rng = np.random.default_rng(1)
        color = rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
        depth = rng.integers(0, 5000, (HEIGHT, WIDTH), dtype=np.uint16)
        period = 1.0 / self.fps
        next_t = time.monotonic()
        while not self._stop.is_set():
            self.frames.put(RgbdFrame(color.copy(), depth.copy(), time.monotonic_ns()))
            next_t += period
            self._stop.wait(max(0.0, next_t - time.monotonic()))

    def _worker(self) -> None:
        version = 0
        obs = np.zeros(OBS_SHAPE, dtype=np.float32)
        fake_actions = np.zeros((1, HORIZON, JOINTS), dtype=np.float32)
        while not self._stop.is_set():
            frame, version = self.frames.wait_newer(version, timeout_s=0.2)
            if frame is None:
                continue
            t = time.perf_counter()
            if self.kind in ("full", "python"):
                obs = preprocess(frame)
            actions = fake_actions
            if self._session is not None:
                actions = self._session.run(None, {"obs": obs})[0]
            if self.kind in ("full", "python"):
                postprocess(actions, frame.stamp_ns, 10_000_000)
            chunk = np.asarray(actions, dtype=np.float64).reshape(HORIZON, JOINTS)
            self.chunks.put(chunk)
            for sink in self.sinks:
                sink.put(chunk)
            self.infer_ms.append((time.perf_counter() - t) * 1e3)

    def __enter__(self) -> InferenceLoad:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
