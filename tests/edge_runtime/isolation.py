"""Run a test (or a fixture's work) in a forked child, so a native crash cannot end the suite.

librealsense can abort the interpreter from its own threads (std::terminate; one full suite
run of six once died that way in test_rs_playback.py). A test marked ``isolated`` runs its
body in a child made by fork (`pytest_pyfunc_call` in conftest.py); an exception there fails
the test as usual, and a child killed by a signal fails it with the signal's name while the
suite goes on. Fixtures that use pyrealsense2 call `run_in_child` themselves: the parent
must never start librealsense threads, because a fork copies the locks those threads hold
but not the threads.

The child leaves with `os._exit`: no interpreter teardown, where librealsense's static
destructors race its threads.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import traceback
from collections.abc import Callable
from typing import Any

import pytest


def _child(fn: Callable[..., Any], write_fd: int, args: tuple, kwargs: dict) -> None:
    code = 0
    try:
        payload = pickle.dumps(("ok", fn(*args, **kwargs)))
    except BaseException as exc:  # everything, pytest's skip and fail outcomes included
        kind = "skip" if isinstance(exc, pytest.skip.Exception) else "error"
        text = str(exc) if kind == "skip" else "".join(traceback.format_exception(exc))
        payload = pickle.dumps((kind, text))
        code = 1
    try:
        view = memoryview(payload)
        while view:
            view = view[os.write(write_fd, view) :]
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def run_in_child(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """`fn(*args, **kwargs)` in a forked child: its return value (pickled), or its failure."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(fn, write_fd, args, kwargs)
    os.close(write_fd)
    chunks = []
    try:
        with os.fdopen(read_fd, "rb") as pipe:
            while chunk := pipe.read(1 << 16):
                chunks.append(chunk)
        _, status = os.waitpid(pid, 0)
    except BaseException:  # a timeout or Ctrl-C here: never leave the child behind
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    name = getattr(fn, "__name__", repr(fn))
    if os.WIFSIGNALED(status):
        signame = signal.Signals(os.WTERMSIG(status)).name
        pytest.fail(
            f"{name} died with {signame} in its child process (a native crash, e.g. inside "
            "pyrealsense2); the rest of the suite went on",
            pytrace=False,
        )
    if not chunks:
        pytest.fail(f"{name} exited ({os.waitstatus_to_exitcode(status)}) without a result")
    kind, value = pickle.loads(b"".join(chunks))
    if kind == "skip":
        pytest.skip(value)
    if kind == "error":
        pytest.fail(value, pytrace=False)
    return value


def call_isolated(item: pytest.Function) -> bool | None:
    """`pytest_pyfunc_call` for tests marked ``isolated``: the body runs in a child."""
    if item.get_closest_marker("isolated") is None:
        return None
    names = item._fixtureinfo.argnames
    run_in_child(item.obj, **{name: item.funcargs[name] for name in names})
    return True
