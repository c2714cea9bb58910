"""FixedRateScheduler logic on an injected SimClock: no test here sleeps or reads wall time."""

from __future__ import annotations

import threading

import pytest

from edge_runtime.loop.clock import MonotonicClock, SimClock
from edge_runtime.loop.scheduler import FixedRateScheduler, Tick

MS = 1_000_000


class OversleepingClock(SimClock):
    """A SimClock whose sleeps wake `late_ns` after the requested time, like a real kernel."""

    def __init__(self, late_ns: int, start_ns: int = 0) -> None:
        super().__init__(start_ns)
        self.late_ns = late_ns
        self.sleeps: list[int] = []

    def sleep_until_ns(self, deadline_ns: int) -> None:
        self.sleeps.append(deadline_ns)
        super().sleep_until_ns(deadline_ns + self.late_ns)


def run_ticks(scheduler: FixedRateScheduler, n: int, work_ns: dict[int, int] | None = None):
    """Run `n` ticks; tick i advances the sim clock by work_ns[i] (default 0). Returns ticks."""
    ticks: list[Tick] = []
    clock = scheduler.clock

    def step(tick: Tick) -> None:
        ticks.append(tick)
        clock.advance_ns((work_ns or {}).get(tick.index, 0))  # type: ignore[attr-defined]

    summary = scheduler.run(step, max_ticks=n)
    return ticks, summary


def test_deadlines_are_absolute_and_do_not_drift() -> None:
    clock = SimClock(start_ns=5 * MS)
    scheduler = FixedRateScheduler(0.010, clock=clock)
    # Every step takes 3.7 ms: a relative sleep(T) loop would drift 3.7 ms per tick.
    ticks, _ = run_ticks(scheduler, 1000, dict.fromkeys(range(1000), 3_700_000))
    assert [t.deadline_ns for t in ticks] == [5 * MS + k * 10 * MS for k in range(1000)]
    assert all(t.lateness_ns == 0 and t.missed == 0 for t in ticks)
    assert [t.index for t in ticks] == list(range(1000))


def test_lateness_is_start_minus_deadline() -> None:
    clock = OversleepingClock(late_ns=50_000)
    scheduler = FixedRateScheduler(0.010, clock=clock, spin_s=0.001)
    ticks, summary = run_ticks(scheduler, 20)
    for tick in ticks[1:]:
        assert tick.lateness_ns == tick.start_ns - tick.deadline_ns == 50_000
    # The coarse sleep aims spin_s before the deadline; the spin (the sim clock does not
    # move, so a final sleep) finishes the wait: never early.
    assert clock.sleeps[0] == 10 * MS - 1 * MS
    assert all(t.start_ns >= t.deadline_ns for t in ticks)
    assert summary.as_dict()["lateness_us"]["max"] == 50.0


def test_spin_on_a_moving_clock_ends_at_the_deadline() -> None:
    # Every clock read costs 1 µs, so spinning advances time: lateness stays under one read.
    clock = SimClock(step_cost_ns=1_000)
    scheduler = FixedRateScheduler(0.002, clock=clock, spin_s=0.0005)
    ticks, _ = run_ticks(scheduler, 50)
    assert all(0 <= t.lateness_ns <= 1_000 for t in ticks)
    assert [t.deadline_ns - ticks[0].deadline_ns for t in ticks] == [k * 2 * MS for k in range(50)]


def test_overrun_skips_passed_deadlines_without_bursting() -> None:
    clock = SimClock()
    scheduler = FixedRateScheduler(0.010, clock=clock)
    # Tick 2 (deadline 20 ms) ends at 45 ms: the 30 and 40 ms deadlines have passed.
    ticks, summary = run_ticks(scheduler, 6, {2: 25 * MS})
    deadlines_ms = [t.deadline_ns // MS for t in ticks]
    assert deadlines_ms == [0, 10, 20, 50, 60, 70]
    assert [t.missed for t in ticks] == [0, 0, 0, 2, 0, 0]
    assert all(t.lateness_ns == 0 for t in ticks)  # resumed on a future deadline, not late
    assert summary.missed == 2
    assert summary.overruns == 1
    assert summary.ticks == 6


def test_step_of_exactly_one_period_misses_nothing() -> None:
    clock = SimClock()
    scheduler = FixedRateScheduler(0.010, clock=clock)
    ticks, summary = run_ticks(scheduler, 5, dict.fromkeys(range(5), 10 * MS))
    assert [t.deadline_ns // MS for t in ticks] == [0, 10, 20, 30, 40]
    assert summary.missed == 0


def test_late_wake_is_recorded_as_lateness_and_following_ticks_realign() -> None:
    # A wake-up 1.5 periods late (an OS stall): that tick is late, the next deadlines passed
    # during its step are skipped, and the loop realigns to the original grid.
    clock = OversleepingClock(late_ns=0)
    scheduler = FixedRateScheduler(0.010, clock=clock, spin_s=0)

    def step(tick: Tick) -> None:
        clock.late_ns = 15 * MS if tick.index == 1 else 0
        seen.append(tick)

    seen: list[Tick] = []
    scheduler.run(step, max_ticks=4)
    assert seen[2].deadline_ns == 20 * MS
    assert seen[2].lateness_ns == 15 * MS
    assert seen[3].deadline_ns == 40 * MS  # 30 ms had passed when tick 2 ended at 35 ms
    assert seen[3].missed == 1
    assert all(t.deadline_ns % (10 * MS) == 0 for t in seen)


def test_stop_event_ends_the_loop_within_one_tick() -> None:
    stop = threading.Event()
    scheduler = FixedRateScheduler(0.001, clock=SimClock())
    seen: list[int] = []

    def step(tick: Tick) -> None:
        seen.append(tick.index)
        if tick.index == 4:
            stop.set()

    summary = scheduler.run(step, stop=stop)
    assert seen == [0, 1, 2, 3, 4]
    assert summary.ticks == 5


def test_stop_already_set_runs_no_tick() -> None:
    stop = threading.Event()
    stop.set()
    summary = FixedRateScheduler(0.001, clock=SimClock()).run(lambda t: None, stop=stop)
    assert summary.ticks == 0


def test_stop_set_during_the_wait_releases_no_more_steps() -> None:
    stop = threading.Event()

    class StoppingClock(SimClock):
        def sleep_until_ns(self, deadline_ns: int) -> None:
            stop.set()  # as if another thread set it while we slept
            super().sleep_until_ns(deadline_ns)

    seen: list[int] = []
    FixedRateScheduler(0.001, clock=StoppingClock()).run(lambda t: seen.append(t.index), stop=stop)
    assert seen == [0]  # tick 0 needs no sleep; tick 1 was stopped in its wait


def test_max_ticks() -> None:
    scheduler = FixedRateScheduler(0.001, clock=SimClock())
    assert scheduler.run(lambda t: None, max_ticks=0).ticks == 0
    assert scheduler.run(lambda t: None, max_ticks=7).ticks == 7
    with pytest.raises(ValueError, match="max_ticks"):
        scheduler.run(lambda t: None, max_ticks=-1)


def test_summary_percentiles_from_the_loop() -> None:
    class RampClock(SimClock):
        """Wake k µs late on the k-th sleep (tick 0 needs no sleep)."""

        def __init__(self) -> None:
            super().__init__()
            self.sleeps = 0

        def sleep_until_ns(self, deadline_ns: int) -> None:
            self.sleeps += 1
            super().sleep_until_ns(deadline_ns + self.sleeps * 1_000)

    clock = RampClock()
    scheduler = FixedRateScheduler(0.010, clock=clock, spin_s=0)
    summary = scheduler.run(lambda tick: clock.advance_ns(2 * MS), max_ticks=100)
    d = summary.as_dict()
    assert d["ticks"] == 100
    assert d["missed"] == 0
    assert summary.lateness_ns().tolist() == [k * 1_000 for k in range(100)]
    assert d["lateness_us"]["max"] == 99.0
    assert d["lateness_us"]["p50"] == pytest.approx(49.5)
    assert d["lateness_us"]["p99"] == pytest.approx(98.0, abs=0.1)
    assert d["step_us"]["p50"] == pytest.approx(2000.0)


def test_step_exception_propagates_with_the_summary_so_far() -> None:
    scheduler = FixedRateScheduler(0.001, clock=SimClock())

    def step(tick: Tick) -> None:
        if tick.index == 3:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        scheduler.run(step)
    assert scheduler.summary.ticks == 3


def test_summary_is_live_from_another_thread() -> None:
    scheduler = FixedRateScheduler(0.001, clock=SimClock())
    stop = threading.Event()
    reached = threading.Event()

    def step(tick: Tick) -> None:
        if tick.index == 10:
            reached.set()

    worker = threading.Thread(target=scheduler.run, args=(step,), kwargs={"stop": stop})
    worker.start()
    try:
        assert reached.wait(10)
        assert scheduler.summary.ticks >= 10
        assert scheduler.summary.as_dict()["ticks"] >= 10
    finally:
        stop.set()
        worker.join(10)
    assert not worker.is_alive()


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="period_s"):
        FixedRateScheduler(0)
    with pytest.raises(ValueError, match="spin_s"):
        FixedRateScheduler(0.01, spin_s=-1)


def test_real_clock_smoke() -> None:
    """The real clock path runs; only structure is checked, never timing."""
    scheduler = FixedRateScheduler(0.001, clock=MonotonicClock(), spin_s=0.0002)
    ticks: list[Tick] = []
    summary = scheduler.run(ticks.append, max_ticks=5)
    assert summary.ticks == 5
    assert all(t.start_ns >= t.deadline_ns and t.lateness_ns >= 0 for t in ticks)
    assert all((t.deadline_ns - ticks[0].deadline_ns) % 1_000_000 == 0 for t in ticks)
