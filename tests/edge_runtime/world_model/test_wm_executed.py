"""What the arm was told between two frames: time-weighted commands, joints between reads."""

from __future__ import annotations

import numpy as np
import pytest

from edge_runtime.ipc.channels import TickHistory
from edge_runtime.world_model.executed import executed_actions

MS = 1_000_000


def test_a_command_counts_for_the_time_it_was_in_force() -> None:
    # Ticks every 10 ms starting 5 ms into the first 20 ms step: the step felt the old command
    # for 5 ms and the new one for 15 ms.
    stamps = np.array([-5, 5, 15, 25, 35]) * MS
    commands = np.array([[0.0], [1.0], [1.0], [2.0], [2.0]])
    out = executed_actions(stamps, commands, t0_ns=0, count=2, dt_ns=20 * MS)
    assert out[0, 0] == pytest.approx(0.25 * 0.0 + 0.75 * 1.0)
    assert out[1, 0] == pytest.approx(0.25 * 1.0 + 0.75 * 2.0)


def test_failed_writes_and_uncovered_windows() -> None:
    stamps = np.array([0, 10, 20]) * MS
    commands = np.array([[1.0], [np.nan], [1.0]])  # the second write failed: nothing sent
    assert executed_actions(stamps, commands, 0, 1, 20 * MS)[0, 0] == pytest.approx(1.0)
    assert executed_actions(stamps, commands, -5 * MS, 1, 20 * MS) is None  # starts too early
    assert executed_actions(stamps, commands, 0, 5, 20 * MS) is None  # ends too late


def test_joints_between_two_reads_are_interpolated() -> None:
    history = TickHistory(
        stamps_ns=np.array([0, 10]) * MS,
        read_ns=np.array([1, 11]) * MS,
        commands_rad=np.zeros((2, 1)),
        positions_rad=np.array([[0.0], [1.0]]),
    )
    assert history.positions_at(6 * MS)[0] == pytest.approx(0.5)
    assert history.positions_at(16 * MS)[0] == pytest.approx(1.5)  # carried on, next read due
    assert history.positions_at(22 * MS) is None  # more than one interval late: not known
