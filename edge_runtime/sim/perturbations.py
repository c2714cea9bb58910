"""The named perturbation suite: condition name -> a factory of fresh `Perturbation`s.

Each factory is a class (picklable by reference), so a process pool can send condition names
or factories to its workers. Every condition draws its onset and parameters from the episode's
seed alone, so policy, planner and monitor meet identical disturbances on the same episode.
What each one does and why its magnitudes: the classes' docstrings and docs/perturbations.md.
"""

from __future__ import annotations

from collections.abc import Callable

from edge_runtime.errors import EdgeRuntimeError
from edge_runtime.sim.arm_perturbations import (
    ActionDelay,
    BlockedJoint,
    Friction,
    StalledJoint,
    TargetMoved,
)
from edge_runtime.sim.episode_runner import Perturbation
from edge_runtime.sim.view_perturbations import CameraBump, Lighting, Occlusion

PerturbationFactory = Callable[[], Perturbation]

PERTURBATIONS: dict[str, PerturbationFactory] = {
    "nominal": Perturbation,
    "target_moved": TargetMoved,
    "blocked_joint": BlockedJoint,
    "stalled_joint": StalledJoint,
    "friction": Friction,
    "action_delay": ActionDelay,
    "camera_bump": CameraBump,
    "occlusion": Occlusion,
    "lighting": Lighting,
}
CONDITION_NAMES: tuple[str, ...] = tuple(PERTURBATIONS)
PERTURBED_NAMES: tuple[str, ...] = tuple(n for n in CONDITION_NAMES if n != "nominal")


class UnknownPerturbationError(EdgeRuntimeError, ValueError):
    """A condition name that the perturbation suite does not define."""


def perturbation_factory(name: str) -> PerturbationFactory:
    """The factory for condition `name`; a one-sentence error naming the valid ones."""
    try:
        return PERTURBATIONS[name]
    except KeyError:
        raise UnknownPerturbationError(
            f"unknown perturbation condition {name!r}; choose from {', '.join(CONDITION_NAMES)}"
        ) from None


def is_fault(name: str) -> bool:
    """Whether a surprise monitor should stop the arm under condition `name`."""
    return bool(perturbation_factory(name)().is_fault)
