"""The inference worker: newest frame + newest joint state → action chunk → control process.

It owns the engines (created on this thread, as TensorRT/pycuda require), waits for a frame
newer than the last one it used, and never touches the motors. A failure here is reported to
the runtime through `on_fault`, which stops the robot safely; it is never swallowed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import numpy as np

from edge_runtime.loop.clock import Clock
from edge_runtime.pipeline.observer import ActionChunk, LoopObserver
from edge_runtime.pipeline.policy import BundlePolicy
from edge_runtime.pipeline.stats import SampleBuffer
from edge_runtime.sensors.base import Camera

log = logging.getLogger(__name__)


class InferenceWorker:
    def __init__(
        self,
        make_policy: Callable[[], BundlePolicy],
        camera: Camera,
        joint_positions: Callable[[], np.ndarray | None],
        publish: Callable[[ActionChunk], None],
        clock: Clock,
        observers: LoopObserver,
        on_fault: Callable[[str, BaseException], None],
        max_frame_age_s: float,
    ) -> None:
        self._make_policy = make_policy
        self._camera = camera
        self._joint_positions = joint_positions
        self._publish = publish
        self._clock = clock
        self._observers = observers
        self._on_fault = on_fault
        self._max_frame_age_ns = int(max_frame_age_s * 1e9)
        self._stop = threading.Event()
        self.ready = threading.Event()
        self.inference_ns = SampleBuffer()  # engine + preprocessing time per chunk
        self.latency_ns = SampleBuffer()  # observation → chunk in queue
        self.stale_frames_skipped = 0
        self._thread = threading.Thread(target=self._run, name="inference", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        try:
            policy = self._make_policy()
        except BaseException as exc:
            self.ready.set()
            self._on_fault("inference worker could not load the models", exc)
            return
        try:
            dt_ns = int(policy.action.dt_s * 1e9)
            self.ready.set()
            version = 0
            while not self._stop.is_set():
                frame, version = self._camera.wait_frame(version, timeout_s=0.1)
                joints = self._joint_positions()
                if frame is None or joints is None or self._stop.is_set():
                    continue
                start_ns = self._clock.now_ns()
                if start_ns - frame.host_time_ns > self._max_frame_age_ns:
                    self.stale_frames_skipped += 1
                    continue
                self._observers.on_frame(frame)
                actions = policy.act(frame, np.nan_to_num(joints))
                done_ns = self._clock.now_ns()
                chunk = ActionChunk(
                    t_obs_ns=frame.host_time_ns,
                    dt_ns=dt_ns,
                    actions=actions,
                    inference_ns=done_ns - start_ns,
                    frame_number=frame.frame_number,
                )
                self._publish(chunk)
                self.inference_ns.add(chunk.inference_ns)
                self.latency_ns.add(done_ns - frame.host_time_ns)
                self._observers.on_chunk(chunk)
        except BaseException as exc:
            self._on_fault("inference worker failed", exc)
        finally:
            policy.close()
