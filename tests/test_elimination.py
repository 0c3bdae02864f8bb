"""The elimination kernels: orders against a brute-force greedy, and the reductions."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from diffdx._elimination import _largest, _sum, adjacency_bits, greedy_order
from diffdx._workspace import new_workspace


def greedy_reference(adj, log_card, fill_first):
    """Recompute every score from scratch at every step (slow, obviously right)."""
    adj = adj.copy()
    n = len(log_card)
    done = [False] * n
    order, total = [], 0.0
    for _ in range(n):
        best, best_key = -1, None
        for i in range(n):
            if done[i]:
                continue
            nbrs = [j for j in range(n) if adj[i, j] and not done[j]]
            fill = sum(1 for x, a in enumerate(nbrs) for b in nbrs[x + 1 :] if not adj[a, b])
            weight = log_card[i] + sum(log_card[j] for j in nbrs)
            if best < 0 or _better(fill, weight, *best_key, fill_first):
                best, best_key = i, (fill, weight)
        order.append(best)
        total += math.exp(best_key[1])
        done[best] = True
        nbrs = [j for j in range(n) if adj[best, j] and not done[j]]
        for a in nbrs:
            adj[a, best] = adj[best, a] = False
            for b in nbrs:
                if a != b:
                    adj[a, b] = True
    return order, total


def _better(fill, weight, best_fill, best_weight, fill_first):
    if fill_first and fill != best_fill:
        return fill < best_fill
    return weight < best_weight - 1e-9


@st.composite
def graphs(draw):
    n = draw(st.integers(1, 14))
    density = draw(st.sampled_from([0.1, 0.3, 0.6]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    upper = np.triu(rng.random((n, n)) < density, 1)
    adj = upper | upper.T
    card = rng.choice([2, 2, 2, 3, 4], size=n).astype(float)
    return adj, card


@settings(max_examples=150, deadline=None, derandomize=True)
@given(graph=graphs())
def test_orders_match_a_brute_force_greedy(graph):
    adj, card = graph
    ws = new_workspace(10_000)  # the orders live in it: keep it
    for fill_first in (False, True):
        order, total = greedy_order(adjacency_bits(adj), card, fill_first, ws)
        want_order, want_total = greedy_reference(adj, np.log(card), fill_first)
        assert order.tolist() == want_order
        assert math.isclose(total, want_total, rel_tol=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0.0, 1e6, allow_nan=False, allow_infinity=False), min_size=1, max_size=11)
)
def test_the_four_way_reductions_are_max_and_sum(values):
    """Four running maxima / sums, and the 0-3 entries left over, cover every entry."""
    a = np.array(values)
    assert _largest(a) == max(values)
    assert math.isclose(_sum(a), math.fsum(values), rel_tol=1e-14)
