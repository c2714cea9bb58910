"""Queue splicing: stale actions dropped, overlap blended, time-indexed sampling."""

from __future__ import annotations

import numpy as np
import pytest

from edge_runtime.loop.chunks import ChunkQueue
from edge_runtime.pipeline.observer import ActionChunk

MS = 1_000_000


def chunk(t_obs_ms: int, values: list[float], dt_ms: int = 10) -> ActionChunk:
    actions = np.array(values, dtype=float)[:, None] * np.ones((1, 2))
    return ActionChunk(t_obs_ns=t_obs_ms * MS, dt_ns=dt_ms * MS, actions=actions)


def test_empty_queue_has_no_action() -> None:
    queue = ChunkQueue(joints=2)
    assert queue.action_at(0) is None


def test_actions_past_by_the_latency_are_dropped() -> None:
    queue = ChunkQueue(joints=2)
    # Observation at 0 ms, arrives at 25 ms: actions for 0 and 10 ms are past; 20 ms is kept
    # as the interpolation anchor for "now".
    queue.push(chunk(0, [0, 1, 2, 3, 4, 5]), now_ns=25 * MS)
    assert queue.actions_dropped == 2
    assert queue.action_at(25 * MS) == pytest.approx([2.5, 2.5])
    assert queue.action_at(50 * MS) == pytest.approx([5, 5])
    assert queue.action_at(51 * MS) is None


def test_chunk_entirely_in_the_past_is_discarded() -> None:
    queue = ChunkQueue(joints=2)
    queue.push(chunk(0, [0, 1]), now_ns=100 * MS)
    assert queue.chunks_discarded == 1
    assert queue.action_at(100 * MS) is None


def test_overlap_is_cross_faded_from_old_to_new() -> None:
    queue = ChunkQueue(joints=2)
    queue.push(chunk(0, [0.0] * 10), now_ns=0)  # old plan: hold 0 until 90 ms
    queue.push(chunk(30, [1.0] * 10), now_ns=30 * MS)  # new plan: 1.0 from 30 to 120 ms
    # At the splice point the command continues the old plan; by the end of the overlap it
    # is entirely the new one; after the overlap only the new chunk remains.
    assert queue.action_at(30 * MS) == pytest.approx([0.0, 0.0])
    mid = queue.action_at(60 * MS)
    assert mid is not None
    assert 0.0 < mid[0] < 1.0
    assert queue.action_at(90 * MS) == pytest.approx([1.0, 1.0])
    assert queue.action_at(120 * MS) == pytest.approx([1.0, 1.0])
    assert queue.actions_blended > 0


def test_blend_is_continuous_across_the_splice() -> None:
    queue = ChunkQueue(joints=2)
    queue.push(chunk(0, list(np.linspace(0, 0.9, 10))), now_ns=0)
    before = queue.action_at(35 * MS)
    queue.push(chunk(35, [2.0] * 10), now_ns=35 * MS)
    after = queue.action_at(35 * MS)
    assert after == pytest.approx(before)


def test_out_of_order_chunk_is_ignored() -> None:
    queue = ChunkQueue(joints=2)
    queue.push(chunk(20, [1.0] * 5), now_ns=20 * MS)
    queue.push(chunk(10, [9.0] * 5), now_ns=21 * MS)
    assert queue.chunks_discarded == 1
    assert queue.action_at(30 * MS) == pytest.approx([1.0, 1.0])


def test_wrong_joint_count_is_refused() -> None:
    queue = ChunkQueue(joints=3)
    with pytest.raises(ValueError, match=r"\(H, 3\)"):
        queue.push(chunk(0, [1.0, 2.0]), now_ns=0)


def test_hold_keeps_each_action_for_its_step_then_runs_out() -> None:
    queue = ChunkQueue(1, hold=True)
    actions = np.array([[0.1], [0.2], [0.3]])
    queue.push(ActionChunk(t_obs_ns=0, dt_ns=20 * MS, actions=actions), now_ns=0)
    assert queue.action_at(0)[0] == pytest.approx(0.1)
    assert queue.action_at(19 * MS)[0] == pytest.approx(0.1)  # held, not ramped to 0.2
    assert queue.action_at(20 * MS)[0] == pytest.approx(0.2)
    assert queue.action_at(59 * MS)[0] == pytest.approx(0.3)  # the last action lasts its dt
    assert queue.action_at(60 * MS) is None
