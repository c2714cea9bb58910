"""What the arm was actually told between two frames, in the predictor's terms.

The control loop sends a command every period (100 Hz); the predictor was trained on one
joint target per action step (dt, e.g. 20 ms) held for that step. The target of step k is the
mean of the commands sent during [t0 + k*dt, t0 + (k+1)*dt); a step with no command sent
(a missed period) takes the last command before it. No command before t0 means the history
does not cover the window yet: None, and the monitor skips that comparison.
"""

from __future__ import annotations

import numpy as np


def executed_actions(
    stamps_ns: np.ndarray, commands: np.ndarray, t0_ns: int, count: int, dt_ns: int
) -> np.ndarray | None:
    """(count, J) targets for the steps after `t0_ns`, or None when the history lacks them."""
    stamps = np.asarray(stamps_ns, np.int64)
    if len(stamps) == 0 or stamps[0] > t0_ns or stamps[-1] < t0_ns + (count - 1) * dt_ns:
        return None
    out = np.empty((count, commands.shape[1]))
    for k in range(count):
        begin, end = t0_ns + k * dt_ns, t0_ns + (k + 1) * dt_ns
        inside = (stamps >= begin) & (stamps < end)
        if inside.any():
            out[k] = commands[inside].mean(axis=0)
        else:
            out[k] = commands[int(np.searchsorted(stamps, begin, side="right")) - 1]
    return out
