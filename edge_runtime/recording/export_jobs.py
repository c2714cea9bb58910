"""Run one export function over many logs: inline, in local processes, or on a Ray cluster.

Exporting is CPU-bound per log (reading, depth decoding, video muxing) and logs are
independent, so the unit of work is one log. Local processes by default (one per core);
`ray_address` sends the same functions to an existing Ray cluster for a fleet's logs (Ray is
imported only then: `pip install 'edge-runtime[ray]'`; every node must see the logs and the
output directory at the same paths, e.g. a shared filesystem). One item, or `jobs=1`, runs
inline: no process start-up, and errors keep their one-sentence form.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from edge_runtime.ipc.lifetime import die_with_parent
from edge_runtime.ray_cluster import ray_session
from edge_runtime.recording.format import LogError

Item = TypeVar("Item")
Result = TypeVar("Result")


def check_new_output(path: Path) -> None:
    """Refuse to write into an existing non-empty path: an export never mixes with old files."""
    if path.exists() and (path.is_file() or any(path.iterdir())):
        raise LogError(f"{path} already exists; export into a new directory or file")


def run_jobs(
    fn: Callable[[Item], Result],
    items: Sequence[Item],
    jobs: int | None = None,
    ray_address: str | None = None,
) -> list[Result]:
    """`[fn(item) for item in items]`, in parallel where it pays; results keep the order."""
    if ray_address:
        return _run_on_ray(fn, items, ray_address)
    workers = min(len(items), jobs or os.cpu_count() or 1)
    if workers <= 1:
        return [fn(item) for item in items]
    # spawn: a fresh interpreter per worker, never a fork of a process holding threads.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, context, initializer=die_with_parent) as pool:
        return list(pool.map(fn, items))


def _run_on_ray(fn: Callable[[Any], Any], items: Sequence[Any], address: str) -> list[Any]:
    with ray_session(address, LogError) as ray:
        remote = ray.remote(fn)
        return list(ray.get([remote.remote(item) for item in items]))
