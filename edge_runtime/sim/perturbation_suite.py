"""Conditions x controllers on the same seeded episodes, in a local process pool.

Every episode is independent (the runner resets the world, perturbations undo their changes,
controllers `reset` per episode), so episodes can run anywhere: the work is cut into chunks of
consecutive episode indices and spread over `workers` spawned processes, each building its own
world, renderer and controllers from picklable factories. A chunk's outcomes depend only on
(seed, condition, controller, index), so a parallel run returns exactly what a serial run does.

`ray_address` sends the same chunks to a Ray cluster instead (`edge_runtime.ray_cluster`): each
task builds its own controllers, so the outcomes are again exactly the serial ones.

Controllers are given as factories so a planner or a monitor plugs in without this module
knowing them; `edge_runtime.sim.world_model_suite` turns the outcomes into the benchmark.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

from edge_runtime.errors import ConfigError
from edge_runtime.ipc.lifetime import die_with_parent
from edge_runtime.ray_cluster import ray_map_unordered
from edge_runtime.sim.episode_runner import (
    Controller,
    EpisodeOutcome,
    EpisodeSettings,
    run_episodes,
)
from edge_runtime.sim.perturbations import perturbation_factory

ControllerFactory = Callable[[], Controller]
Outcomes = dict[str, dict[str, list[EpisodeOutcome]]]  # [controller][condition], index order


@dataclass(frozen=True)
class Run:
    """`episodes` episodes (indices 0..episodes-1) of one controller under one condition."""

    controller: str
    condition: str
    episodes: int


@dataclass(frozen=True)
class _Chunk:
    controller: str
    condition: str
    start: int
    stop: int


class _Worker:
    """One process's controllers (built on first use, kept for its later chunks)."""

    def __init__(
        self, controllers: Mapping[str, ControllerFactory], seed: int, settings: EpisodeSettings
    ) -> None:
        self.factories = dict(controllers)
        self.seed = seed
        self.settings = settings
        self.built: dict[str, Controller] = {}

    def run(self, chunk: _Chunk) -> tuple[_Chunk, list[EpisodeOutcome]]:
        if chunk.controller not in self.built:
            self.built[chunk.controller] = self.factories[chunk.controller]()
        outcomes = run_episodes(
            self.built[chunk.controller],
            chunk.stop,
            self.seed,
            self.settings,
            perturbation=perturbation_factory(chunk.condition),
            indices=range(chunk.start, chunk.stop),
        )
        return chunk, outcomes

    def close(self) -> None:
        for controller in self.built.values():
            close = getattr(controller, "close", None)
            if close is not None:
                close()
        self.built.clear()


_worker: _Worker | None = None  # the pool process's own state, set by _start_worker


def _start_worker(
    controllers: Mapping[str, ControllerFactory], seed: int, settings: EpisodeSettings
) -> None:
    global _worker
    die_with_parent()  # a killed benchmark leaves no worker behind
    # Unconfigured, logging would print each worker's copy of the parent's warnings (an
    # unsigned bundle, once per process); failures come back as exceptions instead.
    logging.getLogger().addHandler(logging.NullHandler())
    _worker = _Worker(controllers, seed, settings)


def _run_chunk(chunk: _Chunk) -> tuple[_Chunk, list[EpisodeOutcome]]:
    assert _worker is not None, "pool worker used before its initializer ran"
    return _worker.run(chunk)


def _run_chunk_alone(
    controllers: Mapping[str, ControllerFactory],
    seed: int,
    settings: EpisodeSettings,
    chunk: _Chunk,
) -> tuple[_Chunk, list[EpisodeOutcome]]:
    """One Ray task: its own controllers for one chunk (Ray reuses processes, not objects)."""
    worker = _Worker(controllers, seed, settings)
    try:
        return worker.run(chunk)
    finally:
        worker.close()


def run_matrix(
    controllers: Mapping[str, ControllerFactory],
    runs: Sequence[Run],
    seed: int = 0,
    settings: EpisodeSettings | None = None,
    workers: int = 1,
    chunk_episodes: int = 10,
    progress: Callable[[int, int], None] | None = None,
    ray_address: str | None = None,
) -> Outcomes:
    """Outcomes of every run; episode `i` is the same episode in every run (paired).

    `workers` <= 1 runs in this process; more spawns that many processes (factories and
    controllers must then be picklable: module-level classes, `functools.partial`, ...).
    `progress(done, total)` counts episodes. `ray_address` runs the chunks as Ray tasks.
    """
    settings = settings or EpisodeSettings()
    for run in runs:
        perturbation_factory(run.condition)  # unknown names fail before any work starts
        if run.controller not in controllers:
            known = ", ".join(controllers)
            raise ValueError(f"run asks for controller {run.controller!r}; known: {known}")
    chunks = [
        _Chunk(run.controller, run.condition, start, min(start + chunk_episodes, run.episodes))
        for run in runs
        for start in range(0, run.episodes, max(1, chunk_episodes))
    ]
    total = sum(c.stop - c.start for c in chunks)
    results: dict[_Chunk, list[EpisodeOutcome]] = {}
    if ray_address:
        shared = (dict(controllers), seed, settings)
        for chunk, outcomes in ray_map_unordered(
            _run_chunk_alone, chunks, ray_address, ConfigError, shared
        ):
            results[chunk] = outcomes
            _report(progress, results, total)
    elif workers <= 1:
        worker = _Worker(controllers, seed, settings)
        try:
            for chunk in chunks:
                results[chunk] = worker.run(chunk)[1]
                _report(progress, results, total)
        finally:
            worker.close()
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            workers, context, initializer=_start_worker, initargs=(controllers, seed, settings)
        ) as pool:
            for future in as_completed([pool.submit(_run_chunk, c) for c in chunks]):
                chunk, outcomes = future.result()
                results[chunk] = outcomes
                _report(progress, results, total)
    outcomes: Outcomes = {}
    for chunk in chunks:  # in submission order: index order within each run
        runs_of = outcomes.setdefault(chunk.controller, {})
        runs_of.setdefault(chunk.condition, []).extend(results[chunk])
    return outcomes


def _report(
    progress: Callable[[int, int], None] | None,
    results: Mapping[_Chunk, list[EpisodeOutcome]],
    total: int,
) -> None:
    if progress is not None:
        progress(sum(len(v) for v in results.values()), total)
