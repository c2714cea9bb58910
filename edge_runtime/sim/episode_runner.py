"""Closed-loop episodes on a manual-time `SimWorld`, for any controller and any perturbation.

The one loop behind model evaluation, monitor calibration and the world-model benchmark:
render a frame, hand the controller what a robot would know (the frame, the measured joints,
the joint targets actually commanded since the last frame), execute the first actions of the
chunk it returns, repeat. Manual time and seeded episodes make it deterministic: the same seed
gives the same targets, start poses and perturbation moments whatever the controller, so two
controllers are compared on *paired* episodes.

Execution matches the demonstrations (`edge_runtime.sim.episodes`): each action is a joint
target held for `dt_s`, `actions_per_step` of them between two frames. A controller that asks
for a stop (the surprise monitor) ends the episode with the arm held where it was commanded —
in the runtime that stop turns torque off; here the episode simply counts as not successful.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from edge_runtime.sensors.base import Frame, Intrinsics
from edge_runtime.sim.control_emulation import EmulatedControlLoop
from edge_runtime.sim.episodes import DEPTH_SCALE_M, episode_seed, start_episode
from edge_runtime.sim.render import RgbdRenderer, camera_intrinsics
from edge_runtime.sim.world import SimWorld


@dataclass(frozen=True)
class Observation:
    """What a controller may know at one frame; nothing privileged (no target position)."""

    time_s: float  # simulated time of the frame
    frame: Frame
    joint_positions_rad: np.ndarray  # (J,) measured at the frame
    executed_rad: np.ndarray | None  # (K, J) targets commanded since the last frame, oldest first
    # The joints one world-model step after the last frame (when the runner emulates the
    # control loop: the runtime reads them from the control process's history).
    joints_at_step_rad: np.ndarray | None = None


@dataclass(frozen=True)
class Decision:
    """A controller's answer: the chunk to execute, and whether to stop the arm now."""

    actions_rad: np.ndarray  # (H, J) absolute joint targets, one per dt
    stop: bool = False
    events: tuple[tuple[str, str], ...] = ()  # (kind, detail), e.g. ("world_model_warn", "...")


class Controller(Protocol):
    def reset(self, episode_seed: int) -> None:
        """A new episode begins (forget plans, latents, debounce state)."""

    def step(self, observation: Observation) -> Decision:
        """The chunk for this frame."""


class Perturbation:
    """Something that changes the world mid-episode; subclasses override the hooks they need.

    `onset_s` is set by `begin` from the episode's RNG so paired episodes perturb at the same
    moment. Hooks run on the runner's thread, never concurrently. `is_fault` says whether a
    surprise monitor should stop the arm for it (a lighting change should not).
    """

    name = "nominal"
    is_fault = False

    def __init__(self) -> None:
        self.onset_s: float | None = None

    def begin(self, world: SimWorld, rng: np.random.Generator) -> None:
        """Episode start: choose the onset time and parameters (no effect before onset)."""

    def before_action(self, world: SimWorld, time_s: float, target_rad: np.ndarray) -> np.ndarray:
        """Each action step: may change the world or the target the servos receive."""
        return target_rad

    def after_render(self, frame: Frame, time_s: float) -> Frame:
        """Each frame: may change what the camera delivers."""
        return frame

    def end(self, world: SimWorld) -> None:
        """Episode end: undo any change to the shared world model."""

    def describe(self) -> dict[str, float | str]:
        """The parameters drawn in `begin` (joint, magnitude, ...), for per-episode analysis."""
        return {}


@dataclass(frozen=True)
class EpisodeOutcome:
    index: int
    seed: int
    success: bool
    final_distance_m: float
    stopped_at_s: float | None = None  # when the controller stopped the arm
    onset_s: float | None = None  # when the perturbation began
    events: tuple[tuple[float, str, str], ...] = field(default=())  # (time_s, kind, detail)
    perturbation: str = "nominal"
    parameters: dict[str, float | str] = field(default_factory=dict)  # Perturbation.describe()


@dataclass(frozen=True)
class EpisodeSettings:
    episode_s: float = 3.0
    dt_s: float = 0.02
    actions_per_step: int = 5  # 0.1 s between frames at dt 0.02
    tolerance_m: float = 0.02
    start_noise_rad: float = 0.15
    width: int = 128
    height: int = 96
    # None: execute each action held for dt (how the reference models were trained). A
    # period: emulate the robot's control loop at that period (control_emulation.py), with
    # the servo latency and velocity limit below, so scores and outcomes match `edgerun run`.
    control_period_s: float | None = None
    command_latency_s: float = 0.002
    max_velocity_rad_s: float = 1.5


def run_episodes(
    controller: Controller,
    episodes: int,
    seed: int,
    settings: EpisodeSettings | None = None,
    perturbation: Callable[[], Perturbation] | None = None,
    indices: range | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[EpisodeOutcome]:
    """Run episodes `indices` (default 0..episodes-1) of `seed`; one world, one renderer.

    Episode `i` of `seed` has the same target and start pose as in `collect_episodes` with the
    same seed and start noise, and the same perturbation draw for every controller.
    """
    settings = settings or EpisodeSettings()
    world = SimWorld(seed=seed)
    intrinsics = camera_intrinsics(world, settings.width, settings.height)
    chosen = indices if indices is not None else range(episodes)
    outcomes = []
    with RgbdRenderer(world, settings.width, settings.height) as renderer:
        for done, index in enumerate(chosen, start=1):
            disturbance = perturbation() if perturbation is not None else Perturbation()
            outcome = _episode(
                world, renderer, intrinsics, controller, disturbance, seed, index, settings
            )
            outcomes.append(outcome)
            if progress is not None:
                progress(done, len(chosen))
    return outcomes


def _episode(
    world: SimWorld,
    renderer: RgbdRenderer,
    intrinsics: Intrinsics,
    controller: Controller,
    disturbance: Perturbation,
    seed: int,
    index: int,
    settings: EpisodeSettings,
) -> EpisodeOutcome:
    ep_seed = episode_seed(seed, index)
    start_episode(world, ep_seed, settings.start_noise_rad)
    disturbance.begin(world, np.random.default_rng([ep_seed, 2]))
    controller.reset(ep_seed)
    steps_per_action = max(1, round(settings.dt_s / world.timestep_s))
    t_end = world.time_s + settings.episode_s
    loop = _control_loop(world, settings, ep_seed)
    executed: list[np.ndarray] = []
    events: list[tuple[float, str, str]] = []
    stopped_at, previous = None, None
    try:
        while world.time_s < t_end - 1e-9:
            now = world.time_s
            frame = disturbance.after_render(_frame(renderer, intrinsics), now)
            observation = _observe(world, loop, settings, now, previous, frame, executed)
            decision = controller.step(observation)
            events.extend((now, kind, detail) for kind, detail in decision.events)
            if decision.stop:
                stopped_at = now
                break
            previous, executed = now, []
            if loop is not None:
                step_s = settings.actions_per_step * settings.dt_s
                loop.run_until(now + step_s, decision.actions_rad, now, disturbance.before_action)
                continue
            for action in decision.actions_rad[: settings.actions_per_step]:
                target = disturbance.before_action(world, world.time_s, np.asarray(action, float))
                world.set_joint_targets(target)
                executed.append(np.asarray(action, float))
                world.step(steps_per_action)
        success = stopped_at is None and world.task_success(settings.tolerance_m)
        distance = world.distance_to_goal()
    finally:
        disturbance.end(world)
    return EpisodeOutcome(
        index,
        ep_seed,
        success,
        distance,
        stopped_at,
        disturbance.onset_s,
        tuple(events),
        disturbance.name,
        disturbance.describe(),
    )


def _control_loop(
    world: SimWorld, settings: EpisodeSettings, ep_seed: int
) -> EmulatedControlLoop | None:
    if settings.control_period_s is None:
        return None
    loop = EmulatedControlLoop(
        world, settings.dt_s, settings.control_period_s, settings.command_latency_s,
        settings.max_velocity_rad_s,
    )  # fmt: skip
    phase = np.random.default_rng([ep_seed, 3]).uniform(0.0, settings.control_period_s)
    loop.start(float(phase))
    return loop


def _observe(
    world: SimWorld,
    loop: EmulatedControlLoop | None,
    settings: EpisodeSettings,
    now: float,
    previous: float | None,
    frame: Frame,
    executed: list[np.ndarray],
) -> Observation:
    """What the controller is told at this frame, held steps or the emulated control loop."""
    if loop is None:
        recent = np.array(executed) if executed else None
        return Observation(now, frame, world.joint_positions(), recent)
    joints = loop.joints_at(now)
    if joints is None:  # before two reads exist
        joints = world.joint_positions()
    if previous is None:
        return Observation(now, frame, joints, None)
    count = settings.actions_per_step
    return Observation(
        now, frame, joints, loop.executed_since(previous, count),
        loop.joints_at(previous + count * settings.dt_s),
    )  # fmt: skip


def _frame(renderer: RgbdRenderer, intrinsics: Intrinsics) -> Frame:
    """A rendered image as the `SimCamera` would deliver it (depth as uint16 millimetres)."""
    image = renderer.render()
    return Frame(
        color=image.color,
        depth=image.depth_u16(DEPTH_SCALE_M),
        depth_scale_m=DEPTH_SCALE_M,
        intrinsics=intrinsics,
        device_time_ms=image.sim_time_s * 1000.0,
        host_time_ns=round(image.sim_time_s * 1e9),
        frame_number=round(image.sim_time_s * 1000.0),
    )
