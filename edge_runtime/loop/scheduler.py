"""Fixed-rate scheduling for the control thread: absolute deadlines, sleep then spin, no bursts.

Why each choice (figures in docs/perf/loop.md and ../shared REFERENCE timing table):
- Deadlines are absolute, `t0 + k*T` on a monotonic clock, so error never accumulates: a late
  tick does not push the following ones later (relative `sleep(T)` loops drift).
- The wait sleeps until `deadline - spin_s`, then spins on the clock. A SCHED_FIFO thread
  with 1 ns timer slack wakes 30-50 µs late (p99 80-170 µs on a loaded 2-core VM), so a
  200 µs spin puts p99 lateness under a few µs for ~3% of a core at 100 Hz (11% at 500 Hz);
  a 1 ms spin bought nothing more and cost 11% / 51% (docs/perf/loop.md).
  A clock that does not move while we spin (a `SimClock`, a coarse clock) cannot be spun on:
  the wait then sleeps to the deadline instead, so tests on a `SimClock` never hang.
- An overrun (a step that ends after the next deadline, or a wake-up more than a period
  late) skips the deadlines already passed and resumes at the first future one. Running the
  missed ticks back to back ("bursting") would send a stale burst of commands to the motors;
  instead the skipped periods are counted and the next tick carries them in `Tick.missed`.
- The stop event is checked before and after each wait, so `stop` takes effect within one
  period and never releases one more step after it was set. Periods that would have been
  skipped after the last tick are not counted: `missed` is the sum of `Tick.missed`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from edge_runtime.loop.clock import Clock, MonotonicClock
from edge_runtime.loop.summary import LoopSummary

__all__ = ["DEFAULT_SPIN_S", "FixedRateScheduler", "LoopSummary", "Tick"]

DEFAULT_SPIN_S = 0.0002  # covers the p99 wake-up latency of a SCHED_FIFO thread (see above)


@dataclass(frozen=True)
class Tick:
    """One released tick, handed to the step."""

    index: int  # 0.. counting executed ticks
    deadline_ns: int  # the absolute deadline this tick was released at
    start_ns: int  # when the step actually started
    lateness_ns: int  # start_ns - deadline_ns (>= 0)
    missed: int  # whole periods skipped just before this tick (0 normally)


class FixedRateScheduler:
    """Calls `step(tick)` every `period_s` on absolute deadlines until stopped.

    `summary` is the live `LoopSummary` of the current (or last) run; another thread may read
    it while the loop runs. The scheduler does not change thread priority or affinity: call
    `edge_runtime.loop.realtime.configure_realtime()` on the control thread before `run`.
    """

    def __init__(
        self, period_s: float, clock: Clock | None = None, spin_s: float = DEFAULT_SPIN_S
    ) -> None:
        if not period_s > 0:
            raise ValueError(f"period_s must be > 0 seconds, got {period_s!r}")
        if spin_s < 0:
            raise ValueError(f"spin_s must be >= 0 seconds, got {spin_s!r}")
        self.period_ns = round(period_s * 1e9)
        self.spin_ns = round(spin_s * 1e9)
        self.clock: Clock = clock if clock is not None else MonotonicClock()
        self.summary = LoopSummary(self.period_ns)

    @property
    def period_s(self) -> float:
        return self.period_ns / 1e9

    def run(
        self,
        step: Callable[[Tick], None],
        *,
        max_ticks: int | None = None,
        stop: threading.Event | None = None,
    ) -> LoopSummary:
        """Run until `max_ticks` ticks have executed or `stop` is set; returns the summary.

        The first deadline is "now", so tick 0 starts at once. An exception from `step`
        propagates after the summary has recorded the ticks before it.
        """
        if max_ticks is not None and max_ticks < 0:
            raise ValueError(f"max_ticks must be >= 0, got {max_ticks}")
        clock = self.clock
        period_ns = self.period_ns
        summary = self.summary = LoopSummary(period_ns)
        t0 = clock.now_ns()
        k = 0  # index of the next deadline, t0 + k * period
        missed = 0
        index = 0
        while (max_ticks is None or index < max_ticks) and not (stop is not None and stop.is_set()):
            deadline_ns = t0 + k * period_ns
            start_ns = self._wait_until(deadline_ns)
            if stop is not None and stop.is_set():
                break
            tick = Tick(index, deadline_ns, start_ns, start_ns - deadline_ns, missed)
            call_ns = clock.now_ns()
            step(tick)
            end_ns = clock.now_ns()
            # Next deadline: the first one not yet passed (never a burst of late ticks).
            k_next = max(k + 1, -(-(end_ns - t0) // period_ns))
            missed = k_next - k - 1
            k = k_next
            index += 1
            done_ns = clock.now_ns()
            summary.record(
                lateness_ns=tick.lateness_ns,
                step_ns=end_ns - call_ns,
                overhead_ns=(call_ns - start_ns) + (done_ns - end_ns),
                missed_before=tick.missed,
            )
        return summary

    def _wait_until(self, deadline_ns: int) -> int:
        """Sleep to `deadline - spin`, spin to the deadline; returns the time it returned at."""
        clock = self.clock
        now = clock.now_ns()
        if deadline_ns - now > self.spin_ns:
            clock.sleep_until_ns(deadline_ns - self.spin_ns)
            now = clock.now_ns()
        while now < deadline_ns:
            later = clock.now_ns()
            if later == now:  # the clock does not move while we spin: sleep instead
                clock.sleep_until_ns(deadline_ns)
                later = clock.now_ns()
            now = later
        return now
