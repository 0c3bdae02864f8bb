"""The engine's scratch memory: arrays taken from a workspace, released all at once."""

from __future__ import annotations

import threading

import numba
import numpy as np

from diffdx._workspace import (
    WorkspacePool,
    full_ints,
    mark,
    new_workspace,
    release,
    take_floats,
)


@numba.njit
def _take_release(ws, sizes):
    """Take float arrays of these sizes, each filled with its index; release half of them."""
    tops = np.empty(len(sizes) + 1, np.int64)
    start = mark(ws)
    kept = 0.0
    for k in range(len(sizes)):
        a = take_floats(ws, sizes[k])
        a[:] = k
        kept += a.sum()
        tops[k] = ws[4][0]
    at = mark(ws)
    b = full_ints(ws, 3, 7)
    release(ws, at)
    tops[-1] = ws[4][0]
    release(ws, start)
    return kept, tops, b.sum(), ws[4][0]


def test_arrays_are_carved_from_the_buffer_then_fresh_when_it_is_full():
    ws = new_workspace(100)
    kept, tops, ints, top = _take_release(ws, np.array([30, 60, 50, 5]))
    assert kept == 0 * 30 + 1 * 60 + 2 * 50 + 3 * 5  # every array held its own values
    assert tops.tolist() == [30, 90, 90, 95, 95]  # 50 entries did not fit: a fresh array
    assert ints == 21 and top == 0  # released to the start: the buffer is free again
    assert ws[4][1] == 0  # the int stack was released with the rest


def test_the_pool_lends_a_stack_to_one_caller_at_a_time():
    pool = WorkspacePool(entries=64)
    seen = []

    def borrow():
        with pool.lend(2) as stack:
            seen.append(id(stack))
            barrier.wait()  # both callers hold a stack at once

    barrier = threading.Barrier(2)
    threads = [threading.Thread(target=borrow) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == 2  # never the same stack to two callers
    with pool.lend(1) as stack:  # afterwards, an idle stack is lent again
        assert id(stack) in seen and stack[0].shape == (2, 64)
