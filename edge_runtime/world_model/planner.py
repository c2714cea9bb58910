"""The planner: imagine where candidate chunks lead, send a better one than the policy's.

One rollout-graph call scores N candidate chunks at once (the bundle's `rollout` role: the
predictor rolled over each candidate, the predicted states scored by the bundle's cost head;
lower is better). Candidates are the policy's chunk, smooth perturbations of it and of the
previous plan shifted by the time that has passed (warm start); then cross-entropy-method
iterations resample around the best ones while `elapsed + p99(iteration) < budget`, so a plan
never overruns its budget because of one slow iteration. Iteration 0 is always complete.

Do no harm: the policy's chunk is replaced only when the best candidate's predicted cost is
lower by the bundle's `margin`; the planner cannot make a chunk worse by its own measure.
Actions already committed by latency (they will have been executed from the previous plan by
the time this chunk reaches the control process) are frozen to what will really run, so the
rollout imagines the future the arm will actually have. Every candidate respects the joint
limits and the per-step velocity limit the safety filter would otherwise clamp.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from edge_runtime.bundle.manifest import RoleSpec
from edge_runtime.engines import Engine
from edge_runtime.errors import BundleError
from edge_runtime.loop.clock import Clock
from edge_runtime.pipeline.stats import SampleBuffer

CANDIDATES_SOURCE = "planner.candidates"
KNOTS = 4  # control points per candidate: perturbations are smooth in time, not white noise


@dataclass(frozen=True)
class PlannerSettings:
    samples: int  # candidates per rollout call (the graph's static N)
    iterations: int  # CEM iterations after the initial batch, at most
    elites: int  # best candidates the next iteration is sampled around
    noise_rad: float  # std of the initial perturbations
    warm_start_fraction: float  # share of candidates drawn around the previous plan
    margin: float  # cost units the best must beat the policy's chunk by
    budget_s: float  # wall time for one plan
    min_noise_rad: float = 0.002  # the CEM spread never collapses below this


@dataclass(frozen=True)
class PlanResult:
    actions: np.ndarray  # (H, J) the chunk to send
    overridden: bool  # True: the planner's chunk replaced the policy's
    cost_policy: float
    cost_best: float
    iterations: int  # CEM iterations run after the initial batch
    elapsed_ns: int


class Planner:
    def __init__(
        self,
        rollout: Engine,
        spec: RoleSpec,
        settings: PlannerSettings,
        limits_rad: np.ndarray,  # (J, 2) [lower, upper]
        max_step_rad: np.ndarray,  # (J,) largest change between two actions dt apart
        dt_ns: int,
        clock: Clock,
        seed: int = 0,
    ) -> None:
        self.engine = rollout
        self.settings = settings
        self.lower, self.upper = np.asarray(limits_rad, float).T
        self.max_step_rad = np.asarray(max_step_rad, float)
        self.dt_ns = int(dt_ns)
        self.clock = clock
        self._rng = np.random.default_rng(seed)
        self._sources = {t.name: t.source for t in spec.inputs}
        wanted = [t for t in spec.inputs if t.source == CANDIDATES_SOURCE]
        if len(wanted) != 1 or len(spec.outputs) != 1:
            raise BundleError(
                f"the rollout role must read one input from '{CANDIDATES_SOURCE}' and have one "
                f"cost output; it has inputs {sorted(self._sources)} and "
                f"{len(spec.outputs)} outputs — re-export the bundle"
            )
        self._candidates_name = wanted[0].name
        self.samples, self.horizon, self.joints = wanted[0].shape
        self._output = spec.outputs[0].name
        if settings.samples != self.samples:
            raise BundleError(
                f"the planner is set to {settings.samples} samples but the bundle's rollout "
                f"graph scores {self.samples} per call; set [world_model] samples = "
                f"{self.samples}"
            )
        self.iteration_ns = SampleBuffer(256)
        self._previous: tuple[int, np.ndarray] | None = None  # (t_obs_ns, chunk sent)

    def reset(self, seed: int | None = None) -> None:
        """Forget the previous plan (a new episode, or after a stop); reseed when given one, so
        an episode's plans depend on its seed only, not on the episodes run before it."""
        self._previous = None
        if seed is not None:
            self._rng = np.random.default_rng(seed)

    def plan(
        self,
        values: Mapping[str, np.ndarray],
        policy_chunk: np.ndarray,
        joints_rad: np.ndarray,
        t_obs_ns: int,
        committed: int = 0,
    ) -> PlanResult:
        """The chunk to send for the observation at `t_obs_ns` (see the module docstring)."""
        started = self.clock.now_ns()
        policy = np.asarray(policy_chunk, float).reshape(self.horizon, self.joints)
        warm = self._warm_start(t_obs_ns)
        frozen = (warm if warm is not None else policy)[: max(0, min(committed, self.horizon))]
        feeds = {
            name: np.asarray(values[source])
            for name, source in self._sources.items()
            if source != CANDIDATES_SOURCE
        }
        q0 = np.asarray(joints_rad, float).reshape(self.joints)

        candidates = self._initial(policy, warm)
        costs = self._score(feeds, candidates, q0, frozen)
        cost_policy = float(costs[0])
        best_cost, best = float(costs.min()), candidates[int(costs.argmin())].copy()
        iterations = 0
        budget_ns = self.settings.budget_s * 1e9
        while iterations < self.settings.iterations:
            elapsed = self.clock.now_ns() - started
            if elapsed + self._iteration_p99_ns(elapsed) > budget_ns:
                break
            t0 = self.clock.now_ns()
            candidates = self._resample(candidates, costs, best)
            costs = self._score(feeds, candidates, q0, frozen)
            if float(costs.min()) < best_cost:
                best_cost, best = float(costs.min()), candidates[int(costs.argmin())].copy()
            self.iteration_ns.add(self.clock.now_ns() - t0)
            iterations += 1
        overridden = best_cost < cost_policy - self.settings.margin
        chosen = best if overridden else policy
        self._previous = (t_obs_ns, chosen.copy())
        return PlanResult(
            chosen, overridden, cost_policy, best_cost, iterations, self.clock.now_ns() - started
        )

    # -- candidates ---------------------------------------------------------------------------
    def _warm_start(self, t_obs_ns: int) -> np.ndarray | None:
        """The previous chunk moved forward by the time that has passed, last action held."""
        if self._previous is None:
            return None
        t_prev, chunk = self._previous
        shift = round((t_obs_ns - t_prev) / self.dt_ns)
        if shift < 0 or shift >= self.horizon:
            return None
        return np.concatenate([chunk[shift:], np.repeat(chunk[-1:], shift, axis=0)])

    def _initial(self, policy: np.ndarray, warm: np.ndarray | None) -> np.ndarray:
        """Candidate 0 is the policy's chunk itself: its cost is the bar to beat."""
        n, s = self.samples, self.settings
        around_warm = 0 if warm is None else round((n - 1) * s.warm_start_fraction)
        noise = self._smooth_noise(n, np.full((self.horizon, self.joints), s.noise_rad))
        candidates = policy[None] + noise
        candidates[0] = policy
        if warm is not None:
            candidates[1] = warm
            candidates[2 : 1 + around_warm] = warm[None] + noise[2 : 1 + around_warm]
        return candidates

    def _resample(self, candidates: np.ndarray, costs: np.ndarray, best: np.ndarray) -> np.ndarray:
        """Cross-entropy step: Gaussian around the elites' mean and spread; keep the best."""
        elite = candidates[np.argsort(costs)[: self.settings.elites]]
        mean = elite.mean(axis=0)
        spread = np.maximum(elite.std(axis=0), self.settings.min_noise_rad)
        fresh = mean[None] + self._smooth_noise(self.samples, spread)
        fresh[0] = best
        return fresh

    def _smooth_noise(self, count: int, std: np.ndarray) -> np.ndarray:
        """(count, H, J) perturbations drawn at a few knots and interpolated linearly in time."""
        knots = self._rng.standard_normal((count, KNOTS, self.joints))
        at = np.linspace(0.0, KNOTS - 1.0, self.horizon)
        low = np.floor(at).astype(int).clip(0, KNOTS - 2)
        w = (at - low)[None, :, None]
        return ((1.0 - w) * knots[:, low] + w * knots[:, low + 1]) * std[None]

    def _feasible(self, candidates: np.ndarray, q0: np.ndarray, frozen: np.ndarray) -> np.ndarray:
        """Frozen prefix, then the velocity limit per step and the joint limits, in place."""
        start = frozen[-1] if len(frozen) else q0
        free = candidates[:, len(frozen) :]
        base = np.broadcast_to(start, (len(candidates), 1, self.joints))
        steps = np.clip(np.diff(np.concatenate([base, free], axis=1), axis=1),
                        -self.max_step_rad, self.max_step_rad)  # fmt: skip
        candidates[:, : len(frozen)] = frozen
        candidates[:, len(frozen) :] = np.clip(start + np.cumsum(steps, axis=1), self.lower,
                                               self.upper)  # fmt: skip
        return candidates

    def _score(
        self,
        feeds: dict[str, np.ndarray],
        candidates: np.ndarray,
        q0: np.ndarray,
        frozen: np.ndarray,
    ) -> np.ndarray:
        self._feasible(candidates, q0, frozen)
        out = self.engine.infer({**feeds, self._candidates_name: candidates.astype(np.float32)})
        costs = np.asarray(out[self._output], float).reshape(self.samples)
        return np.where(np.isfinite(costs), costs, np.inf)  # a NaN cost never wins

    def _iteration_p99_ns(self, first_batch_ns: int) -> float:
        """How long the next iteration may take; before any is measured, the initial batch's."""
        if len(self.iteration_ns) < 5:
            return float(first_batch_ns)
        return float(np.percentile(self.iteration_ns.values(), 99))
