"""Exact sum-product over a set of discrete factors: the engine's table kernels.

The noisy-OR specific part of the engine (``engine.py``) turns one case's evidence into
factors; this module eliminates them. Factors live in flat arrays rather than lists of
arrays, so a case allocates a handful of buffers instead of several per clique:

- ``sc``: every scope, back to back (variable ids); factor ``t``'s scope is
  ``sc[fs_at[t] : fs_at[t] + fs_len[t]]``;
- ``tb``: every table, back to back; factor ``t``'s table is
  ``tb[ft_at[t] : ft_at[t] + ft_len[t]]``, row-major in its scope's order (the last
  variable fastest).

:func:`calibrate` runs bucket elimination forward and a Hugin pass backward, so every
clique ends up holding the joint posterior of its variables (up to a known total).
Each clique's scope starts with the variable it eliminates (its slowest digit): summing
that variable out, and reading its marginal, are contiguous passes.

The small helpers called once per clique or per factor are inlined by numba
(``inline="always"``): a call from one jitted function to another passes each array
with its reference count, and these calls took about a tenth of the engine's time.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from diffdx._borrow import borrowed
from diffdx._jit import NUMBA_CACHE
from diffdx._workspace import full_flags, full_floats, full_ints, take_floats, take_ints, take_words

__all__ = [
    "MAX_TABLE_SIZE",
    "NUMBA_CACHE",
    "adjacency_bits",
    "calibrate",
    "calibration_bytes",
    "elimination_order",
    "greedy_order",
    "project",
]

#: The kernels compiled in (see ``_jit.py``).
KERNEL_SOURCES_SHA256 = "d6764b10f317205e"

#: Largest clique table (entries) one elimination step may build.
MAX_TABLE_SIZE = 1 << 24
#: Above this many clique entries (in all) for the smallest-clique-first order, the
#: fewest-fill-in order is tried as well.
FILL_ORDER_ABOVE = 20000.0


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def calibration_bytes(n_beliefs, n_messages, max_clique, max_message):
    """Bytes :func:`calibrate` allocates for cliques and messages of these sizes (entries).

    Beliefs and messages (float64) share one buffer; one index scratch (int64) as long as
    the largest clique; two work vectors as long as the largest message.
    """
    return 8 * (n_beliefs + n_messages + max_clique + 2 * max_message)


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _fill_index(union, n, scope, card, out, stride_of):
    """For each entry of a table over ``union[:n]``, write its index in a table over ``scope``.

    ``scope`` holds a subset of ``union``'s variables, in any order; ``out`` has the
    size of the table over ``union[:n]``. Returns the strides in ``scope`` of
    ``union[n]`` and ``union[n + 1]`` (0 for one not in ``scope`` or past the end),
    for callers that step over the last variables themselves (see
    :func:`_binary_tail`). ``stride_of`` is zero over all variable ids,
    and left so: it holds each scope variable's stride while the index is built (one
    pass over each scope, not one per pair of variables). Built by doubling, one
    contiguous pass per variable.
    """
    step = 1
    for p in range(scope.shape[0] - 1, -1, -1):
        stride_of[scope[p]] = step
        step *= card[scope[p]]
    out[0] = 0
    length = 1
    for u in range(n):
        c = card[union[u]]
        stride = stride_of[union[u]]
        if c == 2:
            for i in range(length - 1, -1, -1):
                base = out[i]
                out[2 * i + 1] = base + stride
                out[2 * i] = base
        else:
            for i in range(length - 1, -1, -1):
                base = out[i]
                for j in range(c - 1, -1, -1):
                    out[i * c + j] = base + j * stride
        length *= c
    a = stride_of[union[n]] if n < union.shape[0] else 0
    b = stride_of[union[n + 1]] if n + 1 < union.shape[0] else 0
    for p in range(scope.shape[0]):
        stride_of[scope[p]] = 0
    return a, b


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _binary_tail(union, card):
    """How many of ``union``'s last variables (its fastest digits), at most two, are binary.

    Index loops step over these in their body (2 or 4 entries an index), so the index
    is 2 or 4 times shorter: building and reading it was a fifth of the engine's time.
    """
    d = union.shape[0]
    q = 0
    while q < 2 and q < d and card[union[d - 1 - q]] == 2:
        q += 1
    return q


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _gather(psi, tab, idx, q, a, b, first):
    """Set (``first``) or multiply each entry of ``psi`` by its entry of ``tab``.

    ``idx`` indexes ``tab`` for each group of ``2**q`` entries of ``psi``, whose last
    ``q`` binary variables have strides ``a`` (and ``b``) in ``tab`` (see
    :func:`_fill_index`).
    """
    if q == 2:
        for k in range(idx.shape[0]):
            x = idx[k]
            if first:
                psi[4 * k] = tab[x]
                psi[4 * k + 1] = tab[x + b]
                psi[4 * k + 2] = tab[x + a]
                psi[4 * k + 3] = tab[x + a + b]
            else:
                psi[4 * k] *= tab[x]
                psi[4 * k + 1] *= tab[x + b]
                psi[4 * k + 2] *= tab[x + a]
                psi[4 * k + 3] *= tab[x + a + b]
    elif q == 1:
        for k in range(idx.shape[0]):
            x = idx[k]
            if first:
                psi[2 * k] = tab[x]
                psi[2 * k + 1] = tab[x + a]
            else:
                psi[2 * k] *= tab[x]
                psi[2 * k + 1] *= tab[x + a]
    else:
        for k in range(idx.shape[0]):
            if first:
                psi[k] = tab[idx[k]]
            else:
                psi[k] *= tab[idx[k]]


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _leading(union, scope):
    """Whether ``scope`` is the first ``len(scope)`` variables of ``union``, in order."""
    if scope.shape[0] > union.shape[0]:
        return False
    for p in range(scope.shape[0]):
        if scope[p] != union[p]:
            return False
    return True


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def project(table, union, card, scope, out, scratch, stride_of):
    """Add each entry of ``table`` (over ``union``) into ``out`` (over ``scope``, a subset).

    ``scratch`` is an int array at least as long as ``table``; ``stride_of`` is zero over
    all variable ids (see :func:`_fill_index`). The loop steps over ``union``'s last
    binary variables itself (:func:`_binary_tail`).
    """
    q = _binary_tail(union, card)
    idx = scratch[: table.shape[0] >> q]
    a, b = _fill_index(union, union.shape[0] - q, scope, card, idx, stride_of)
    for k in range(idx.shape[0]):
        x = idx[k]
        if q == 2:
            out[x] += table[4 * k]
            out[x + b] += table[4 * k + 1]
            out[x + a] += table[4 * k + 2]
            out[x + a + b] += table[4 * k + 3]
        elif q == 1:
            out[x] += table[2 * k]
            out[x + a] += table[2 * k + 1]
        else:
            out[x] += table[k]


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _largest(a):
    """Return the largest entry of a non-empty array.

    Four running maxima, not one: a single chain of dependent comparisons would take a
    few cycles per entry.
    """
    m0 = m1 = m2 = m3 = a[0]
    n4 = a.shape[0] - a.shape[0] % 4
    for k in range(0, n4, 4):
        m0 = a[k] if not a[k] <= m0 else m0
        m1 = a[k + 1] if not a[k + 1] <= m1 else m1
        m2 = a[k + 2] if not a[k + 2] <= m2 else m2
        m3 = a[k + 3] if not a[k + 3] <= m3 else m3
    for k in range(n4, a.shape[0]):
        m0 = a[k] if not a[k] <= m0 else m0
    m0 = m1 if not m1 <= m0 else m0
    m2 = m3 if not m3 <= m2 else m2
    return m2 if not m2 <= m0 else m0


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _sum(a):
    """Return the sum of an array, taken in four running sums (see :func:`_largest`)."""
    s0 = s1 = s2 = s3 = 0.0
    n4 = a.shape[0] - a.shape[0] % 4
    for k in range(0, n4, 4):
        s0 += a[k]
        s1 += a[k + 1]
        s2 += a[k + 2]
        s3 += a[k + 3]
    for k in range(n4, a.shape[0]):
        s0 += a[k]
    return (s0 + s1) + (s2 + s3)


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _sort_small(a):
    """Sort a short int array in place (insertion sort: no set-up cost)."""
    for i in range(1, a.shape[0]):
        x = a[i]
        j = i - 1
        while j >= 0 and a[j] > x:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = x


@numba.njit(cache=NUMBA_CACHE, error_model="numpy")
def _interaction_graph(variables, n_fac, fs_at, fs_len, sc, card, n_vars, ws):
    """Neighbour bit sets (local indices) of the variables that share a factor, and cards.

    Both are taken from workspace ``ws`` (see ``_workspace.py``), as are the arrays of
    every function below that takes one.
    """
    n = variables.shape[0]
    n_words = (n + 63) // 64
    local = full_ints(ws, n_vars, -1)
    sizes = take_floats(ws, n)
    for i in range(n):
        local[variables[i]] = i
        sizes[i] = card[variables[i]]
    rows = take_words(ws, n * n_words).reshape((n, n_words))
    rows[:] = 0
    mask = take_words(ws, n_words)  # a factor's variables, or'ed into each one's row
    for t in range(n_fac):
        at, ln = fs_at[t], fs_len[t]
        mask[:] = 0
        for a in range(at, at + ln):
            ia = local[sc[a]]
            if ia >= 0:
                mask[ia >> 6] |= np.uint64(1) << np.uint64(ia & 63)
        for a in range(at, at + ln):
            ia = local[sc[a]]
            if ia >= 0:
                for w in range(n_words):
                    rows[ia, w] |= mask[w]
    for i in range(n):
        _set(rows, i, i, False)
    return rows, sizes


@numba.njit(cache=NUMBA_CACHE, error_model="numpy")
def adjacency_bits(adj):
    """Neighbour bit sets of a boolean adjacency matrix, as :func:`greedy_order` takes."""
    n = adj.shape[0]
    rows = np.zeros((n, (n + 63) // 64), np.uint64)
    for i in range(n):
        for j in range(n):
            if adj[i, j]:
                _set(rows, i, j, True)
    return rows


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _popcount(x):
    """Count the set bits of a uint64 (SWAR: no loop over bits); return an int64."""
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    m2 = np.uint64(0x3333333333333333)
    x = (x & m2) + ((x >> np.uint64(2)) & m2)
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _count_outside(rows, a, b, skip):
    """How many neighbours of ``a``, other than ``skip``, are not neighbours of ``b``."""
    count = 0
    for w in range(rows.shape[1]):
        count += _popcount(rows[a, w] & ~rows[b, w])
    if _has(rows, a, skip) and not _has(rows, b, skip):
        count -= 1
    return count


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _has(rows, a, x):
    """Whether bit ``x`` of row ``a`` is set."""
    return (rows[a, x >> 6] >> np.uint64(x & 63)) & np.uint64(1) != 0


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _set(rows, a, x, on):
    """Set (``on``) or clear bit ``x`` of row ``a``."""
    bit = np.uint64(1) << np.uint64(x & 63)
    if on:
        rows[a, x >> 6] |= bit
    else:
        rows[a, x >> 6] &= ~bit


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _members(rows, a, out):
    """Write the set bits of row ``a`` into ``out``, in increasing order; return how many."""
    k = 0
    for w in range(rows.shape[1]):
        x = rows[a, w]
        while x:
            low = x & (~x + np.uint64(1))
            out[k] = w * 64 + _popcount(low - np.uint64(1))
            k += 1
            x ^= low
    return k


@numba.njit(cache=NUMBA_CACHE, error_model="numpy")
def greedy_order(adj_bits, card, fill_first, ws):
    """Greedy elimination order, and the total size of its cliques (entries).

    Smallest clique first, or with ``fill_first`` fewest fill-in edges first (then
    smallest clique). Neighbourhoods are bit sets; clique sizes (products of
    cardinalities, exact in floating point up to 2**53 entries) and fill
    counts (non-adjacent pairs among a vertex's neighbours) are updated incrementally:
    eliminating ``v`` changes only its neighbours (``v`` leaves their neighbourhoods)
    and, for each fill-in edge, its two ends and their common neighbours. So an order
    costs about ``n * degree**2`` rather than ``n**3``.

    Parameters
    ----------
    adj_bits : uint64 array, shape (n, ceil(n / 64))
        Symmetric adjacency of the interaction graph, row ``i`` the bit set of ``i``'s
        neighbours (see :func:`adjacency_bits`); not modified.
    card : float array, shape (n,)
        Each variable's number of states.
    fill_first : bool
    ws : workspace
        Scratch memory (:func:`~diffdx._workspace.new_workspace`). The order returned
        is taken from it too: it is valid while ``ws`` is alive and not reused.

    Examples
    --------
    >>> from diffdx._workspace import new_workspace
    >>> adj = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], dtype=bool)  # a path 0-1-2
    >>> ws = new_workspace(100)  # the order lives in it: keep it
    >>> order, total = greedy_order(adjacency_bits(adj), np.array([2.0, 2.0, 2.0]), False, ws)
    >>> order.tolist(), total
    ([0, 1, 2], 10.0)
    """
    n = card.shape[0]
    rows = take_words(ws, adj_bits.size).reshape(adj_bits.shape)
    rows[:] = adj_bits
    nbrs = take_ints(ws, n)
    size = take_floats(ws, n)  # the size of the clique eliminating i would build
    size[:] = card
    fill = full_ints(ws, n, 0)
    for i in range(n):
        k = _members(rows, i, nbrs)
        for x in range(k):
            size[i] *= card[nbrs[x]]
            if fill_first:
                fill[i] += _count_outside(rows, i, nbrs[x], nbrs[x])
        fill[i] //= 2
    alive = take_ints(ws, n)  # the vertices left, in increasing order (ties go to the first)
    for i in range(n):
        alive[i] = i
    order = take_ints(ws, n)
    total = 0.0
    for step in range(n):
        at = 0
        best = alive[0]
        for j in range(1, n - step):
            i = alive[j]
            if fill_first and fill[i] > fill[best]:
                continue
            if (fill_first and fill[i] < fill[best]) or size[i] < size[best]:
                at, best = j, i
        for j in range(at, n - step - 1):
            alive[j] = alive[j + 1]
        order[step] = best
        total += size[best]
        k = _members(rows, best, nbrs)
        for x in range(k):
            a = nbrs[x]
            if fill_first:  # drop the pairs (best, y), y a neighbour of a but not of best
                fill[a] -= _count_outside(rows, a, best, best)
        for x in range(k):
            a = nbrs[x]
            _set(rows, a, best, False)
            size[a] /= card[best]
        # Fill-in edges among the neighbours, one at a time.
        for x in range(k):
            a = nbrs[x]
            for z in range(x + 1, k):
                b = nbrs[z]
                if _has(rows, a, b):
                    continue
                if fill_first:
                    for w in range(rows.shape[1]):
                        common = rows[a, w] & rows[b, w]
                        while common:  # the pair (a, b) of y's neighbours is now joined
                            low = common & (~common + np.uint64(1))
                            fill[w * 64 + _popcount(low - np.uint64(1))] -= 1
                            common ^= low
                    fill[a] += _count_outside(rows, a, b, b)
                    fill[b] += _count_outside(rows, b, a, a)
                _set(rows, a, b, True)
                _set(rows, b, a, True)
                size[a] *= card[b]
                size[b] *= card[a]
    return order, total


@numba.njit(cache=NUMBA_CACHE, error_model="numpy")
def elimination_order(variables, n_fac, fs_at, fs_len, sc, card, n_vars, ws):
    """Greedy elimination order on the interaction graph of the factors.

    Smallest clique first: cheap, and good on most cases. When its cliques would hold
    more than ``FILL_ORDER_ABOVE`` entries in all, the fewest-fill-in order is tried too
    and the one with fewer entries is kept: on cases with 11 or more positive findings,
    that halves the mean time and makes the worst case 5 times faster.
    """
    n = variables.shape[0]
    if n == 1 or (n == 2 and card[variables[0]] <= card[variables[1]]):
        order = take_ints(ws, n)  # the greedy order, without a graph: ties go to the first
        order[:] = variables
        return order
    adj_bits, sizes = _interaction_graph(variables, n_fac, fs_at, fs_len, sc, card, n_vars, ws)
    local, total = greedy_order(adj_bits, sizes, False, ws)
    if total > FILL_ORDER_ABOVE:
        other, other_total = greedy_order(adj_bits, sizes, True, ws)
        if other_total < total:
            local = other
    order = take_ints(ws, local.shape[0])
    for i in range(local.shape[0]):
        order[i] = variables[local[i]]
    return order


@numba.njit(cache=NUMBA_CACHE, error_model="numpy")
def calibrate(
    n_fac, fs_at, fs_len, ft_at, ft_len, sc, sc_used, tb, order, card, n_vars, max_bytes, wanted, ws
):
    """Eliminate ``order`` forward, then calibrate the wanted cliques backward (Hugin).

    Parameters
    ----------
    n_fac : int
        Number of input factors; ``fs_at``, ``fs_len``, ``ft_at`` and ``ft_len`` have room
        for ``n_fac + len(order)`` (one message per eliminated variable), and ``sc`` for
        ``sc_used + len(order) ** 2`` more ids (the cliques' scopes).
    order : int array
        Every variable that appears in a factor, in elimination order.
    max_bytes : int
        Memory budget: give up, before any arithmetic, when the cliques and messages
        would need more (see :func:`calibration_bytes`).
    wanted : bool array
        Over variable ids: the cliques that eliminate these variables are calibrated,
        with every clique between them and the root of their tree. The others (leaves
        nobody reads, such as a chain variable's) keep their forward potential.
    ws : workspace
        Scratch memory (:func:`~diffdx._workspace.new_workspace`); the arrays returned
        are taken from it.

    Returns
    -------
    log_z : float
        ``log`` of the sum of the product of all factors; NaN when a clique would exceed
        ``MAX_TABLE_SIZE`` entries or the tables ``max_bytes``, -inf when the sum is zero.
    cs_at, cs_len : int arrays
        Clique ``i``'s scope is ``sc[cs_at[i] : cs_at[i] + cs_len[i]]``; it starts with
        ``order[i]``.
    bel, cb_at : arrays
        Clique ``i``'s belief is ``bel[cb_at[i] : ...]`` (its table size), proportional to
        the posterior joint of its scope and summing to ``total[i]``, if it was calibrated
        (see ``wanted``).
    total : float array
    consumer : int array
        For each input factor, the clique whose potential includes it (-1: none, for a
        factor over no variables).
    scratch, stride_of : int arrays
        Index scratch as long as the largest clique, and zeros over the variable ids, for
        :func:`project` on a clique.
    """
    n = order.shape[0]
    rank = full_ints(ws, n_vars, n)
    for i in range(n):
        rank[order[i]] = i
    # Bucket i lists the factors whose earliest-eliminated variable is order[i], as a
    # linked list: head[i] -> nxt[t] -> ... -> -1. Factor n_fac + i is clique i's message.
    head = full_ints(ws, n, -1)
    nxt = full_ints(ws, n_fac + n, -1)
    consumer = full_ints(ws, n_fac + n, -1)
    z = 1.0
    for t in range(n_fac):
        b = n
        for a in range(fs_at[t], fs_at[t] + fs_len[t]):
            b = min(b, rank[sc[a]])
        if b == n:
            z *= tb[ft_at[t]]
        else:
            nxt[t] = head[b]
            head[b] = t
    # Symbolic pass: every clique's scope and size, before any arithmetic.
    cs_at = take_ints(ws, n)
    cs_len = take_ints(ws, n)
    cb_at = take_ints(ws, n + 1)
    mark = full_flags(ws, n_vars, False)
    used = sc_used
    cb_at[0] = 0
    msg_size = 0
    max_size = 1
    max_half = 1
    for i in range(n):
        v = order[i]
        sc[used] = v
        mark[v] = True
        d = 1
        t = head[i]
        while t >= 0:
            for a in range(fs_at[t], fs_at[t] + fs_len[t]):
                x = sc[a]
                if not mark[x]:
                    mark[x] = True
                    sc[used + d] = x
                    d += 1
            consumer[t] = i
            t = nxt[t]
        union = sc[used : used + d]
        _sort_small(union[1:])
        size = 1
        for u in range(d):
            mark[union[u]] = False
            if size <= MAX_TABLE_SIZE:  # stop multiplying before int64 could overflow
                size *= card[union[u]]
        half = size // card[v]
        if (
            size > MAX_TABLE_SIZE
            or calibration_bytes(
                cb_at[i] + size, msg_size + half, max(max_size, size), max(max_half, half)
            )
            > max_bytes
        ):
            empty = take_ints(ws, 0)
            no_total = full_floats(ws, n, 1.0)
            return np.nan, cs_at, cs_len, tb, cb_at, no_total, consumer, empty, empty
        cs_at[i] = used
        cs_len[i] = d
        cb_at[i + 1] = cb_at[i] + size
        max_size = max(max_size, size)
        max_half = max(max_half, half)
        used += d
        m = n_fac + i
        fs_at[m] = cs_at[i] + 1
        fs_len[m] = d - 1
        ft_len[m] = half
        msg_size += half
        b = n
        for u in range(1, d):
            b = min(b, rank[union[u]])
        if b < n:
            nxt[m] = head[b]
            head[b] = m
    # Beliefs, then messages, then the backward pass's work vectors, in one buffer. The
    # loops below use borrowed views (no reference counting) even when the workspace
    # had no room and these are fresh arrays; the owners are returned.
    owned_bel = take_floats(ws, cb_at[n] + msg_size + 2 * max_half)
    owned_scratch = take_ints(ws, max_size)
    owned_stride_of = full_ints(ws, n_vars, 0)
    owned_total = full_floats(ws, n, 1.0)
    bel, scratch, stride_of, total = borrowed(
        (owned_bel, owned_scratch, owned_stride_of, owned_total)
    )
    at = cb_at[n]
    for i in range(n):
        ft_at[n_fac + i] = at
        at += ft_len[n_fac + i]
    log_scale = 0.0
    for i in range(n):
        union = sc[cs_at[i] : cs_at[i] + cs_len[i]]
        psi = bel[cb_at[i] : cb_at[i + 1]]
        first = True
        t = head[i]
        while t >= 0:
            scope = sc[fs_at[t] : fs_at[t] + fs_len[t]]
            if t < n_fac:
                tab = tb[ft_at[t] : ft_at[t] + ft_len[t]]
            else:
                tab = bel[ft_at[t] : ft_at[t] + ft_len[t]]
            if _leading(union, scope):  # each entry of tab covers a block of psi
                block = psi.shape[0] // tab.shape[0]
                if first:
                    for j in range(tab.shape[0]):
                        v = tab[j]
                        for k in range(j * block, (j + 1) * block):
                            psi[k] = v
                else:
                    for j in range(tab.shape[0]):
                        v = tab[j]
                        for k in range(j * block, (j + 1) * block):
                            psi[k] *= v
            else:
                q = _binary_tail(union, card)
                idx = scratch[: psi.shape[0] >> q]
                a, b = _fill_index(union, union.shape[0] - q, scope, card, idx, stride_of)
                _gather(psi, tab, idx, q, a, b, first)
            first = False
            t = nxt[t]
        if first:
            for k in range(psi.shape[0]):
                psi[k] = 1.0
        m = n_fac + i
        half = ft_len[m]
        msg = bel[ft_at[m] : ft_at[m] + half]
        if card[order[i]] == 2:
            for k in range(half):
                msg[k] = psi[k] + psi[half + k]
        else:
            for k in range(half):
                acc = psi[k]
                for s in range(1, card[order[i]]):
                    acc += psi[s * half + k]
                msg[k] = acc
        peak = _largest(msg)
        if not peak > 0.0:  # the evidence is impossible
            z = 0.0
            break
        inv = 1.0 / peak
        for k in range(half):
            msg[k] *= inv
        log_scale += math.log(peak)
        if cs_len[i] == 1:  # a message over no variables
            z *= msg[0]
    if not z > 0.0:
        return (
            -np.inf,
            cs_at,
            cs_len,
            owned_bel,
            cb_at,
            owned_total,
            consumer,
            owned_scratch,
            owned_stride_of,
        )
    # Backward pass, parents (eliminated later) before children: belief = psi x delta,
    # delta = (parent belief summed onto the separator) / (forward message). A clique is
    # calibrated if it is wanted or a clique below it is (children come first in order).
    need = full_flags(ws, n, False)
    for i in range(n):
        need[i] = need[i] or wanted[order[i]]
        if need[i] and consumer[n_fac + i] >= 0:
            need[consumer[n_fac + i]] = True
    work = bel[cb_at[n] + msg_size :]
    for i in range(n - 1, -1, -1):
        if not need[i]:
            continue
        m = n_fac + i
        half = ft_len[m]
        msg = bel[ft_at[m] : ft_at[m] + half]
        delta = work[:half]
        parent = consumer[m]
        if parent < 0:
            for k in range(half):
                delta[k] = 1.0
        else:
            marg = work[half : 2 * half]
            for k in range(half):
                marg[k] = 0.0
            project(
                bel[cb_at[parent] : cb_at[parent + 1]],
                sc[cs_at[parent] : cs_at[parent] + cs_len[parent]],
                card,
                sc[fs_at[m] : fs_at[m] + fs_len[m]],
                marg,
                scratch,
                stride_of,
            )
            inv = 1.0 / total[parent]
            for k in range(half):
                delta[k] = marg[k] * inv / msg[k] if msg[k] > 0.0 else 0.0
        belief = bel[cb_at[i] : cb_at[i + 1]]
        acc = 0.0
        for s in range(belief.shape[0] // half):
            block = belief[s * half : (s + 1) * half]
            for k in range(half):
                block[k] *= delta[k]
            acc += _sum(block)  # the sums marginal_of_first takes again
        total[i] = acc
    return (
        math.log(z) + log_scale,
        cs_at,
        cs_len,
        owned_bel,
        cb_at,
        owned_total,
        consumer,
        owned_scratch,
        owned_stride_of,
    )


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def marginal_of_first(bel, cb_at, card_first, i, total):
    """P(first variable of clique ``i`` = 1 | evidence), from its calibrated belief."""
    size = cb_at[i + 1] - cb_at[i]
    half = size // card_first
    return _sum(bel[cb_at[i] + half : cb_at[i] + 2 * half]) / total[i]
