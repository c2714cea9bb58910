"""Child processes end with their parent: no orphan keeps a core or a device after a kill.

A `ProcessPoolExecutor` worker waits on a queue whose write end every worker also holds, so
when its parent is SIGKILLed (or SIGTERMed before it could shut the pool down) the worker
never sees end-of-file and waits forever: two benchmark workers lived on for 36 minutes this
way. Linux can signal a process when its parent dies (PR_SET_PDEATHSIG); every process the
runtime, the benchmarks or the exporter start asks for it first thing.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal


def die_with_parent(signum: int = signal.SIGTERM) -> None:
    """Ask Linux to send `signum` to this process when its parent dies.

    A parent killed before this call (while the child was still importing) sends nothing:
    the parent is checked once more afterwards, and the same signal raised.
    """
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signum)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: nothing to ask for
        return
    parent = mp.parent_process()
    if parent is not None and os.getppid() != parent.pid:
        os.kill(os.getpid(), signum)
