"""Connect to a Ray cluster for the commands that offer `--ray ADDRESS` (log export, eval).

Ray is an optional extra (`pip install 'edge-runtime[ray]'`), imported only here and only when
asked for, so the robot never needs it. `ADDRESS` is what `ray.init` takes: `auto` on a node of
a running cluster, `ray://HEAD:10001` through Ray Client, or `local` for a fresh single-machine
instance (what the tests use; Ray 2.60 dropped the old in-process `local_mode`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from firmware_bridge.errors import EdgeRuntimeError

Result = TypeVar("Result")


@contextmanager
def ray_session(address: str, error: type[EdgeRuntimeError]) -> Iterator[Any]:
    """The `ray` module, connected to `address`; disconnects on exit if it connected here."""
    try:
        import ray
    except ImportError as exc:
        raise error(
            f"--ray needs Ray ({exc}); install it with pip install 'edge-runtime[ray]'"
        ) from exc
    connected_here = not ray.is_initialized()
    if connected_here:
        try:
            ray.init(
                address=address,
                ignore_reinit_error=True,
                log_to_driver=False,
                include_dashboard=False,
            )
        except (ConnectionError, ValueError) as exc:
            raise error(
                f"cannot reach the Ray cluster at {address} ({exc}); start it with "
                "`ray start --head` or pass the address `ray status` shows"
            ) from exc
    try:
        yield ray
    finally:
        if connected_here:
            ray.shutdown()


def ray_map_unordered(
    fn: Callable[..., Result],
    items: Sequence[Any],
    address: str,
    error: type[EdgeRuntimeError],
    shared: tuple[Any, ...] = (),
) -> Iterator[Result]:
    """`fn(*shared, item)` for every item as Ray tasks, yielded as each finishes.

    `shared` goes into the object store once, not once per task (controller factories, episode
    settings). Tasks finish in any order: results must say which item they belong to.
    """
    with ray_session(address, error) as ray:
        refs = [ray.put(value) for value in shared]
        remote = ray.remote(num_cpus=1)(fn)
        pending = [remote.remote(*refs, item) for item in items]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])
