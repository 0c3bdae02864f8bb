"""The noisy-OR tables and chains the engine builds, for findings and for causes, against
their closed forms (1 - exp(log_q + w.c) and the like)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from diffdx._noisy_or import (
    CHAIN_GROUP,
    cause_table,
    chain_factors,
    chain_links,
    finding_table,
    slot_terms,
)
from diffdx._workspace import new_workspace


def _empty_store(n_fac, n_ids, n_entries):
    """A factor store (see ``diffdx._elimination``) with room for this much."""
    ints = [np.zeros(n_fac, np.int64) for _ in range(4)]
    return (*ints, np.zeros(n_ids, np.int64), np.zeros(n_entries), np.zeros(3, np.int64))


def _states(n):
    """Every state of ``n`` binary variables, one row each, variable 0 slowest."""
    return (np.arange(2**n)[:, None] >> np.arange(n)[::-1]) & 1


def _summed_out(store, n_parents, n_vars):
    """Multiply every factor of ``store``, sum the chain variables out: a table over
    the parents (0..n_parents-1), row-major."""
    fs_at, fs_len, ft_at, ft_len, sc, tb, cur = store
    states = _states(n_vars)
    joint = np.ones(2**n_vars)
    for t in range(cur[0]):
        scope = sc[fs_at[t] : fs_at[t] + fs_len[t]]
        idx = np.zeros(2**n_vars, np.int64)
        for v in scope:
            idx = 2 * idx + states[:, v]
        joint *= tb[ft_at[t] : ft_at[t] + ft_len[t]][idx]
    return joint.reshape(2**n_parents, -1).sum(axis=1)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    n=st.integers(CHAIN_GROUP + 1, 11),
    data=st.data(),
)
def test_a_chain_sums_to_the_noisy_or(n, data):
    """Links of CHAIN_GROUP parents (a shorter last one) give back 1 - exp(log_q + w.c)."""
    logs = st.floats(-6.0, -1e-6)
    w_f = np.array(data.draw(st.lists(logs, min_size=n, max_size=n)))
    log_q = data.draw(logs)
    mult = data.draw(st.floats(0.05, 3.0))
    n_links = chain_links(n)
    assert n_links >= 2 and n_links == -(-n // CHAIN_GROUP)
    n_vars = n + n_links - 1  # the parents, then y1..y(L-1)
    store = _empty_store(n_links, n + 2 * n_links, n_links << (CHAIN_GROUP + 2))
    chain_factors(w_f, np.arange(n), n, log_q, mult, store, new_workspace(100))
    assert store[6][0] == n_links

    got = _summed_out(store, n, n_vars)
    np.testing.assert_allclose(got, _noisy_or(w_f, log_q, mult), rtol=1e-13, atol=0)
    assert (store[5] >= 0).all()  # every entry non-negative: nothing cancels


@settings(max_examples=60, deadline=None, derandomize=True)
@given(n=st.integers(0, 8), data=st.data())
def test_a_finding_table_is_the_noisy_or(n, data):
    """Built by doubling over the parents, yet equal to 1 - exp(log_q + w.c) for all c."""
    w_f = np.array(data.draw(st.lists(st.floats(-30.0, -1e-9), min_size=n, max_size=n)))
    log_q = data.draw(st.floats(-30.0, -1e-9))
    got = np.empty(2**n)
    column = np.column_stack([w_f, w_f])[:, 1]  # strided, as the engine passes it
    finding_table(column, np.arange(n), log_q, 2.0, got, new_workspace(100))
    np.testing.assert_allclose(got, _noisy_or(w_f, log_q, 2.0), rtol=1e-14, atol=0)


def _noisy_or(w_f, log_q, mult):
    """mult * P(finding present) for each state of the parents, first parent slowest."""
    return mult * -np.expm1(log_q + _states(len(w_f)) @ w_f)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(data=st.data())
def test_a_cause_table_is_its_noisy_or(data):
    """Built by doubling over the latent parents (some with more than two states, some
    protective), yet equal to the closed form for every state of the parents:
    P(c = 1 | r) = (1 - exp(la + sum inh)) exp(ls + sum surv), weighed by u, and
    P(c = 0 | r) its complement, exp(la + ls + sums) + 1 - exp(ls + sum surv)."""
    n_causes, c = 3, 1
    cards = data.draw(st.lists(st.integers(2, 4), min_size=0, max_size=5))
    n = len(cards)
    n_states = max(cards, default=2)
    # Each root state either has no slot (-1) or one of its own, with random log terms.
    has = [[data.draw(st.booleans()) for _ in range(k)] for k in cards]
    slot_of = np.full((max(n, 1), n_states), -1, np.int64)
    n_slots = 0
    for r in range(n):
        for s in range(cards[r]):
            if has[r][s]:
                slot_of[r, s] = n_slots
                n_slots += 1
    logs = st.floats(-8.0, 0.0)
    inh = np.array([[data.draw(logs) for _ in range(n_causes)] for _ in range(n_slots)])
    protects = [data.draw(st.booleans()) for _ in range(n)]
    surv = np.zeros((n_slots, n_causes))
    for r in range(n):
        for s in range(cards[r]):
            if has[r][s] and protects[r]:
                surv[slot_of[r, s], c] = data.draw(logs)
    inh, surv = inh.reshape(n_slots, n_causes), surv.reshape(n_slots, n_causes)
    protective = np.zeros((n_causes, max(n, 1)), np.bool_)
    for r in range(n):
        protective[c, r] = any(surv[k, c] != 0 for k in slot_of[r] if k >= 0)
    la, ls, lu = data.draw(logs), data.draw(logs), data.draw(logs)
    card = np.array([2] * n_causes + cards, np.int64)
    parents = np.arange(n_causes, n_causes + n, dtype=np.int64)
    slots = (slot_of, *slot_terms(inh, surv), protective)
    got = np.empty(2 * int(np.prod(cards)))
    cause_table(c, parents, card, n_causes, la, ls, slots, lu, got)

    half = got.shape[0] // 2
    states = np.array(np.unravel_index(np.arange(half), cards or [1])).T  # first slowest
    expected = np.empty_like(got)
    for i, state in enumerate(states):
        sl = [slot_of[r, state[r]] for r in range(n)]
        a = la + sum(inh[k, c] for k in sl if k >= 0)  # log P(no risk fires)
        b = ls + sum(surv[k, c] for k in sl if k >= 0)  # log P(no protection acts)
        expected[i] = np.exp(a + b) - np.expm1(b)
        expected[half + i] = -np.expm1(a) * np.exp(b) * np.exp(lu)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    assert (got >= 0).all()
