"""sd_notify to a real datagram socket standing in for systemd's NOTIFY_SOCKET (its interface).

The watchdog's timing logic runs on a simulated clock: READY at the first tick, WATCHDOG only
while the control process's tick counter advances, nothing while it is silent.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import numpy as np
from notify_socket import NotifySocket

from edge_runtime.field.health import ServiceWatchdog
from edge_runtime.field.notify import SystemdNotifier
from edge_runtime.loop.clock import SimClock
from edge_runtime.pipeline.observer import TickRecord

PERIOD_NS = 10_000_000


def tick(index: int) -> TickRecord:
    zeros = np.zeros(2)
    start = index * PERIOD_NS
    return TickRecord(index, start, start, 0, 0, zeros, zeros, zeros, zeros, zeros, "run", 0)


def test_no_notify_socket_means_no_messages() -> None:
    notifier = SystemdNotifier.from_environment({})
    assert not notifier.enabled
    assert not notifier.notify("READY=1")
    assert notifier.ping_interval_ns is None


def test_messages_reach_the_socket(systemd: NotifySocket) -> None:
    env = {"NOTIFY_SOCKET": systemd.path, "WATCHDOG_USEC": "2000000"}
    notifier = SystemdNotifier.from_environment(env)
    assert notifier.notify("READY=1", "STATUS=armed")
    assert systemd.take() == ["READY=1\nSTATUS=armed"]
    assert notifier.ping_interval_ns == 1_000_000_000  # half the timeout
    notifier.close()


def test_abstract_namespace_socket() -> None:
    name = f"edgerun-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5.0)
        notifier = SystemdNotifier.from_environment({"NOTIFY_SOCKET": "@" + name})
        assert notifier.notify("WATCHDOG=1")
        assert sock.recv(64) == b"WATCHDOG=1"
        notifier.close()


def test_watchdog_meant_for_another_process_is_not_ours(systemd: NotifySocket) -> None:
    env = {"NOTIFY_SOCKET": systemd.path, "WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"}
    assert SystemdNotifier.from_environment(env).ping_interval_ns is None


def test_a_vanished_systemd_does_not_raise(tmp_path: Path) -> None:
    notifier = SystemdNotifier(str(tmp_path / "gone"))
    assert not notifier.notify("WATCHDOG=1")
    assert not notifier.notify("WATCHDOG=1")
    assert notifier.failures == 2


def test_ready_at_first_tick_and_pings_only_while_ticks_advance(systemd: NotifySocket) -> None:
    clock = SimClock()
    watchdog = ServiceWatchdog(SystemdNotifier(systemd.path, watchdog_usec=200_000), clock)
    watchdog.on_start(["a", "b"], 0.01)
    assert not any("READY" in m for m in systemd.take())  # warm, not yet armed
    watchdog.on_tick(tick(0))
    assert "READY=1" in systemd.take()[0].splitlines()
    for index in range(1, 10):  # 90 ms of ticks: less than the 100 ms ping interval
        clock.advance_ns(PERIOD_NS)
        watchdog.on_tick(tick(index))
    assert systemd.take() == []
    clock.advance_ns(PERIOD_NS)
    watchdog.on_tick(tick(10))
    assert systemd.take() == ["WATCHDOG=1"]
    # The control process hangs: no tick reaches the runtime, however long; no ping goes out.
    clock.advance_ns(50 * PERIOD_NS)
    watchdog.on_tick(tick(10))  # the same tick again (a re-delivered record) is no progress
    assert systemd.take() == []
    assert not watchdog.control_advanced()
    watchdog.on_tick(tick(11))  # ticking again: pinged at once (the interval has long passed)
    assert systemd.take() == ["WATCHDOG=1"]
    watchdog.on_stop()
    assert systemd.take()[-1].startswith("STOPPING=1")
    assert watchdog.pings == 2
