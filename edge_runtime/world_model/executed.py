"""What the arm was actually told between two frames, in the predictor's terms.

The control loop sends a command every period (100 Hz); the predictor was trained on one
joint target per action step (dt, e.g. 20 ms) held for that step, switching exactly at the
step's start. A servo holds each command until the next one, and the control loop's ticks
are not aligned with the action steps, so the target the arm felt during step k is the
time-weighted mean of the commands in force over [t0 + k*dt, t0 + (k+1)*dt): a command sent
5 ms into a step counts for 15 ms of it, the one before it for the first 5. (A plain mean of
the commands sent inside the step puts each switch up to one period early; measured on the
simulated arm it left ~10 mrad of joint "surprise" per step on a moving arm.) Failed writes
(NaN) sent nothing and are skipped. None when the history does not cover the window yet.
"""

from __future__ import annotations

import numpy as np


def executed_actions(
    stamps_ns: np.ndarray, commands: np.ndarray, t0_ns: int, count: int, dt_ns: int
) -> np.ndarray | None:
    """(count, J) targets for the steps after `t0_ns`, or None when the history lacks them."""
    sent = np.all(np.isfinite(commands), axis=1)
    stamps, commands = np.asarray(stamps_ns, np.int64)[sent], np.asarray(commands)[sent]
    end_ns = t0_ns + count * dt_ns
    if len(stamps) == 0 or stamps[0] > t0_ns or stamps[-1] < end_ns - dt_ns:
        return None
    # Piecewise-constant command signal: command i is in force from stamps[i] to stamps[i+1].
    starts = np.maximum(stamps, t0_ns)
    ends = np.append(stamps[1:], max(end_ns, stamps[-1]))
    out = np.empty((count, commands.shape[1]))
    for k in range(count):
        begin, finish = t0_ns + k * dt_ns, t0_ns + (k + 1) * dt_ns
        weights = np.clip(np.minimum(ends, finish) - np.maximum(starts, begin), 0, None)
        out[k] = weights @ commands / dt_ns
    return out
