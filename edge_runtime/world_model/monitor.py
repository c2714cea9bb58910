"""The surprise monitor: did the world do what the world model said it would?

Every world-model step (a frame `step_s` after the previous one), the bundle's predictor is
chained `horizon_steps` times from the frame that many steps back, fed the targets the control
loop actually commanded in between; the residuals between the latent and joints it expects now
and what the encoder and the servos report are the surprise scores (`surprise.py`).

Why a horizon and not one step: a one-step prediction starts from the newest frame, so after a
lasting change (a bumped camera, a moved part) it predicts the changed world and the residual
spikes for one frame only; debouncing would then hide exactly the changes that matter. From
`horizon_steps` back, the prediction still starts before the change for that many frames, so
a lasting change gives a lasting residual, while sensor noise does not. A score must stay above a
threshold for `debounce_steps` steps to count, and thresholds come from split-conformal
calibration on nominal episodes at export (the manifest's `world_model.monitor`): a nominal
episode crosses the stop threshold with probability <= alpha_stop.

Which output predicts what is named, not positional: output `next_<name>` predicts the
predictor's input `<name>`; an input read from `observation.joint_positions` gives the joint
score (radians), any other the latent score (in units of the nominal spread).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from edge_runtime.bundle.manifest import RoleSpec
from edge_runtime.engines import Engine
from edge_runtime.errors import BundleError
from edge_runtime.world_model.relight import RGBD_SOURCE, Relighter
from edge_runtime.world_model.surprise import debounce, joint_score, latent_score

EXECUTED_SOURCE = "observation.executed_actions"
JOINTS_SOURCE = "observation.joint_positions"
LEVELS = ("none", "ok", "warn", "stop")  # none: no comparison this frame


@dataclass(frozen=True)
class MonitorSettings:
    latent_scale: np.ndarray | float
    debounce_steps: int
    warn_latent: float
    warn_joints_rad: float
    stop_latent: float
    stop_joints_rad: float
    step_s: float
    horizon_steps: int = 1  # predictor steps chained from that many frames back
    gap_tolerance_s: float = 0.02  # a frame pair this far off step_s breaks the chain


@dataclass(frozen=True)
class Verdict:
    level: str  # one of LEVELS
    latent: float = float("nan")  # this step's scores
    joints_rad: float = float("nan")
    detail: str = ""


class SurpriseMonitor:
    def __init__(
        self,
        predictor: Engine,
        spec: RoleSpec,
        settings: MonitorSettings,
        relighter: Relighter | None = None,
    ) -> None:
        self.engine = predictor
        self.settings = settings
        self.relighter = relighter  # colour constancy (relight.py), when the bundle asks
        self._inputs = {t.name: t.source for t in spec.inputs}
        executed = [t for t in spec.inputs if t.source == EXECUTED_SOURCE]
        predicted = {t.name for t in spec.outputs}
        wanted = {f"next_{name}" for name, src in self._inputs.items() if src != EXECUTED_SOURCE}
        if len(executed) != 1 or not wanted <= predicted:
            raise BundleError(
                f"the predictor role must read '{EXECUTED_SOURCE}' and output next_<input> for "
                f"each other input; it reads {sorted(self._inputs)} and outputs "
                f"{sorted(predicted)} — re-export the bundle"
            )
        self._executed_name = executed[0].name
        self.actions_per_step = executed[0].shape[1]
        self._outputs = {name: f"next_{name}" for name in self._inputs if name in self._state}
        horizon = settings.horizon_steps
        self._frames: deque[tuple[int, dict[str, np.ndarray], np.ndarray | None]] = deque(
            maxlen=horizon + 1
        )
        self._executed: deque[np.ndarray] = deque(maxlen=horizon)
        steps = settings.debounce_steps
        self._latent: deque[float] = deque(maxlen=steps)
        self._joints: deque[float] = deque(maxlen=steps)
        self.compared = 0
        self.skipped = 0  # frame pairs not step_s apart, or commands missing

    @property
    def _state(self) -> list[str]:
        """The predictor inputs it also predicts (all but the executed actions)."""
        return [name for name, src in self._inputs.items() if src != EXECUTED_SOURCE]

    def reset(self) -> None:
        self._frames.clear()
        self._executed.clear()
        self.reset_scores()

    def observe(
        self,
        t_ns: int,
        values: Mapping[str, np.ndarray],
        executed: np.ndarray | None,
        joints_at_step: np.ndarray | None = None,
    ) -> Verdict:
        """Score this frame against the prediction from `horizon_steps` frames back.

        `joints_at_step`: the joints measured exactly `horizon_steps * step_s` after that
        frame, when the caller knows them (the runtime interpolates the control loop's reads):
        camera frames arrive with some jitter, and on a moving arm 10 ms of jitter is 10 mrad
        of joint "surprise" that has nothing to do with the world.
        """
        s = self.settings
        joints_now = np.asarray(values[JOINTS_SOURCE]).reshape(-1)
        if self._frames:
            gap_s = (t_ns - self._frames[-1][0]) / 1e9
            if (
                abs(gap_s - s.step_s) > s.gap_tolerance_s
                or executed is None
                or np.shape(executed) != (self.actions_per_step, len(joints_now))
            ):
                self.skipped += 1
                self.reset()  # the chain of steps is broken: start a new one here
            else:
                self._executed.append(np.asarray(executed, np.float32)[None])
        self._frames.append((t_ns, self._feeds(values), self._rgbd(values)))
        if len(self._frames) <= s.horizon_steps:
            return Verdict("none")
        if self.relighter is not None:
            # In the light of the frame the prediction starts from: the prediction is that
            # frame's latent rolled forward, so any change of light since then must cancel
            # (matched to the previous frame instead, a change 1-2 steps ago stayed in).
            values = {**values, **self.relighter.relit(values, self._frames[0][2])}
        state = dict(self._frames[0][1])
        for actions in self._executed:
            predicted = self.engine.infer({**state, self._executed_name: actions})
            state = {name: predicted[out] for name, out in self._outputs.items()}
        latent = joints = 0.0
        for name in self._state:
            source = self._inputs[name]
            if source == JOINTS_SOURCE:
                seen = values[source] if joints_at_step is None else joints_at_step
                joints = max(joints, joint_score(state[name], seen))
            else:
                latent = max(latent, latent_score(state[name], values[source], s.latent_scale))
        self.compared += 1
        return self._judge(latent, joints)

    def reset_scores(self) -> None:
        """A gap in the comparisons breaks a run of high scores: debouncing starts over."""
        self._latent.clear()
        self._joints.clear()

    def _rgbd(self, values: Mapping[str, np.ndarray]) -> np.ndarray | None:
        """This frame's image, kept as the next frame's light reference (relighting only)."""
        if self.relighter is None:
            return None
        return np.array(values[RGBD_SOURCE], np.float32, copy=True)

    def _feeds(self, values: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {
            name: np.asarray(values[source], np.float32)
            for name, source in self._inputs.items()
            if source != EXECUTED_SOURCE
        }

    def _judge(self, latent: float, joints: float) -> Verdict:
        s = self.settings
        self._latent.append(latent)
        self._joints.append(joints)
        held_latent = float(debounce(np.array(self._latent), s.debounce_steps)[-1])
        held_joints = float(debounce(np.array(self._joints), s.debounce_steps)[-1])
        for level, limit_latent, limit_joints in (
            ("stop", s.stop_latent, s.stop_joints_rad),
            ("warn", s.warn_latent, s.warn_joints_rad),
        ):
            reasons = []
            if held_latent > limit_latent:
                reasons.append(f"latent surprise {held_latent:.2f} > {limit_latent:.2f}")
            if held_joints > limit_joints:
                reasons.append(f"joint residual {held_joints:.3f} rad > {limit_joints:.3f}")
            if reasons:
                detail = f"{' and '.join(reasons)} for {s.debounce_steps} steps"
                return Verdict(level, latent, joints, detail)
        return Verdict("ok", latent, joints)
