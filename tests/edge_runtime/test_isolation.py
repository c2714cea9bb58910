"""The isolation helper: a child's result comes back, its failure fails the test, its crash too."""

from __future__ import annotations

import faulthandler
import os
import resource
import signal

import pytest
from isolation import run_in_child


def _abort() -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file for a planned abort
    faulthandler.disable()  # nor pytest's stack dump
    os.kill(os.getpid(), signal.SIGABRT)  # what std::terminate in a native thread does


def _fail() -> None:
    raise ValueError("boom in the child")


def test_isolation_returns_the_childs_result() -> None:
    assert run_in_child(divmod, 7, 2) == (3, 1)


def test_isolation_a_childs_exception_fails_the_test() -> None:
    with pytest.raises(pytest.fail.Exception, match="ValueError: boom in the child"):
        run_in_child(_fail)


def test_isolation_a_native_abort_fails_only_the_test() -> None:
    with pytest.raises(pytest.fail.Exception, match="_abort died with SIGABRT"):
        run_in_child(_abort)
