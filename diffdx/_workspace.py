"""One thread's scratch memory: the engine's per-case arrays without malloc or counting.

Scoring one case used to allocate about 76 small arrays, each with ``malloc``, ``free``
and an atomically counted owner: about a fifth of the engine's time in perf samples. A
*workspace* is instead a few buffers owned by one thread (one per dtype the engine
uses) and a stack pointer for each. The engine carves its arrays out of them as
borrowed views (see ``_borrow.py``: no owner, so nothing is counted) and frees them all
at once by moving the pointers back (:func:`mark`, :func:`release`). A request larger
than what is left gets a fresh array instead, so no case fails for lack of room.

Rules for code that takes from a workspace: release only to a mark taken in the same
scope, and never use an array taken after a mark once released to it.

numba's on-disk cache does not know that compiled code depends on this file: after
editing it, update ``KERNEL_SOURCES_SHA256`` in the modules that compile it in (see
``_jit.py``; their test says how).
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

import numba
import numpy as np

from diffdx._borrow import borrowed
from diffdx._jit import NUMBA_CACHE

__all__ = [
    "WORKSPACE_ENTRIES",
    "WorkspacePool",
    "full_flags",
    "full_floats",
    "full_ints",
    "mark",
    "new_workspace",
    "new_workspaces",
    "release",
    "take_flags",
    "take_floats",
    "take_ints",
    "take_words",
    "workspace",
]

#: Entries of each buffer of a workspace: float64 and int64 (8 MiB each), bool and
#: uint64 (a tenth as many). Enough for every case of the bundled model but the few
#: widest, whose largest tables then come from ``malloc``.
WORKSPACE_ENTRIES = 1 << 20


def new_workspaces(n, entries=WORKSPACE_ENTRIES):
    """Return ``n`` workspaces, stacked: row ``t`` of each buffer belongs to workspace ``t``.

    Parameters
    ----------
    n : int
    entries : int
        Entries of the float64 and int64 buffers of each workspace (a tenth as many for
        the bool and uint64 ones).

    Returns
    -------
    tuple of arrays
        Float64, int64, bool and uint64 buffers of shape ``(n, ...)``, and the stack
        pointers, shape ``(n, 4)``; :func:`workspace` takes one workspace out.

    Examples
    --------
    >>> stack = new_workspaces(2, 1000)
    >>> [buf.shape for buf in stack]
    [(2, 1000), (2, 1000), (2, 100), (2, 100), (2, 4)]
    """
    small = max(entries // 10, 1)
    return (
        np.empty((n, entries)),
        np.empty((n, entries), np.int64),
        np.empty((n, small), np.bool_),
        np.empty((n, small), np.uint64),
        np.zeros((n, 4), np.int64),
    )


def new_workspace(entries=WORKSPACE_ENTRIES):
    """Return one workspace, emptied: for calling the engine's kernels directly.

    Examples
    --------
    >>> ws = new_workspace(1000)
    >>> ws[0].shape, ws[4].tolist()
    ((1000,), [0, 0, 0, 0])
    """
    return tuple(buf[0] for buf in new_workspaces(1, entries))


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def workspace(stack, t):
    """Return workspace ``t`` of a stack from :func:`new_workspaces`, emptied and borrowed.

    The caller holds ``stack`` while the workspace is in use.
    """
    top = stack[4][t]
    top[:] = 0
    return borrowed((stack[0][t], stack[1][t], stack[2][t], stack[3][t], top))


class WorkspacePool:
    """Stacks of workspaces kept between calls, each lent to one caller at a time.

    A workspace's pages are touched once, not on every call, and two threads calling
    the engine at once (a threaded Dask scheduler) never share one.

    Examples
    --------
    >>> pool = WorkspacePool(entries=1000)
    >>> with pool.lend(2) as stack:
    ...     stack[0].shape
    (2, 1000)
    """

    def __init__(self, entries=WORKSPACE_ENTRIES):
        self.entries = entries
        self._idle = []
        self._lock = threading.Lock()

    @contextmanager
    def lend(self, n):
        """Lend a stack of at least ``n`` workspaces until the ``with`` block ends."""
        with self._lock:
            fits = [s for s in self._idle if s[0].shape[0] >= n]
            stack = min(fits, key=lambda s: s[0].shape[0]) if fits else None
            if stack is not None:
                self._idle.remove(stack)
        if stack is None:
            stack = new_workspaces(n, self.entries)
        try:
            yield stack
        finally:
            with self._lock:
                self._idle.append(stack)


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def mark(ws):
    """Return the workspace's stack pointers, for :func:`release`."""
    top = ws[4]
    return top[0], top[1], top[2], top[3]


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def release(ws, at):
    """Free every array taken from the workspace since :func:`mark` returned ``at``."""
    top = ws[4]
    top[0], top[1], top[2], top[3] = at


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _take(buf, top, k, n):
    """Return ``n`` entries of ``buf`` from stack pointer ``top[k]`` on, or a fresh array."""
    at = top[k]
    if at + n > buf.shape[0]:
        return np.empty(n, buf.dtype)
    top[k] = at + n
    return borrowed(buf[at : at + n])


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def take_floats(ws, n):
    """Return an uninitialised float64 array of ``n`` entries from the workspace."""
    return _take(ws[0], ws[4], 0, n)


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def take_ints(ws, n):
    """Return an uninitialised int64 array of ``n`` entries from the workspace."""
    return _take(ws[1], ws[4], 1, n)


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def take_flags(ws, n):
    """Return an uninitialised bool array of ``n`` entries from the workspace."""
    return _take(ws[2], ws[4], 2, n)


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def take_words(ws, n):
    """Return an uninitialised uint64 array of ``n`` entries from the workspace."""
    return _take(ws[3], ws[4], 3, n)


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _fill(out, value):
    """Set every entry of ``out`` to ``value``; return ``out``."""
    for i in range(out.shape[0]):
        out[i] = value
    return out


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def full_floats(ws, n, value):
    """Return a float64 array of ``n`` entries, all ``value``, from the workspace."""
    return _fill(take_floats(ws, n), value)


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def full_ints(ws, n, value):
    """Return an int64 array of ``n`` entries, all ``value``, from the workspace."""
    return _fill(take_ints(ws, n), value)


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def full_flags(ws, n, value):
    """Return a bool array of ``n`` entries, all ``value``, from the workspace."""
    return _fill(take_flags(ws, n), value)
