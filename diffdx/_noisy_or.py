"""The noisy-OR factors of one case: the tables and chains the engine eliminates.

Given one case's evidence folded into per-cause numbers (``log_absent``: the log of the
noisy-OR's "nothing fires" term; ``log_surv``: the log survival of the protective
factors; ``log_u``: the negative findings' weight on the cause being present), these
kernels write a cause's CPT over its latent parents, a positive finding's noisy-OR over
its parents, or either as a chain of small factors (Heckerman & Breese 1996),
into the flat factor store of ``diffdx._elimination``. They also sum a cause out
exactly where the engine can (a private cause inside its finding's leak; a latent root
of barren causes into those causes). Every entry is a sum or product of non-negative
numbers.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from diffdx._jit import NUMBA_CACHE
from diffdx._workspace import take_floats

#: Parents per link of a positive finding's chain (:func:`chain_factors`). One parent a
#: link makes the most chain variables, each one more step of the elimination; two or
#: four were slower than three on the bundled model's cases (one thread, 2026-12-01).
CHAIN_GROUP = 3

__all__ = [
    "CHAIN_GROUP",
    "barren_folds",
    "cause_chain",
    "cause_table",
    "chain_factors",
    "chain_head",
    "chain_links",
    "exp_pair",
    "finding_table",
    "fold_if_irrelevant",
    "fold_private",
    "new_factor",
    "slot_terms",
    "unary",
]

#: The kernels compiled in (see ``_jit.py``).
KERNEL_SOURCES_SHA256 = "d6764b10f317205e"


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def exp_pair(x):
    """Return ``(exp(x), -expm1(x))`` for ``x <= 0``, with one call to libm at most.

    ``1 + expm1(x)`` is as accurate as ``exp(x)`` while it is at least 1/2 (no
    cancellation), which it is for most of the engine's arguments (small
    probabilities of firing); below, ``exp`` is called. The second value is never
    ``1 - exp(x)``, which would lose a small probability's digits.

    Examples
    --------
    >>> exp_pair(0.0)
    (1.0, 0.0)
    >>> s, f = exp_pair(-1e-12)
    >>> f == -math.expm1(-1e-12) and abs(s - math.exp(-1e-12)) <= 1e-16
    True
    """
    if x == 0.0:
        return 1.0, 0.0
    em = math.expm1(x)
    if em > -0.5:
        return 1.0 + em, -em
    return math.exp(x), -em


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _double(stay, gone, length, slot_of, r, n_states, terms, complements, c):
    """Extend a pair of tables over ``length`` parent states by one more parent, root ``r``.

    Entry ``i`` becomes ``n_states`` entries, one per state of ``r`` (the new fastest
    digit): with that state's slot term ``t`` (1 if it has no slot), ``stay * t`` and
    ``gone + stay * (1 - t)``.
    """
    for i in range(length - 1, -1, -1):
        a, b = stay[i], gone[i]
        for st in range(n_states - 1, -1, -1):
            slot = slot_of[r, st]
            t, f = (terms[slot, c], complements[slot, c]) if slot >= 0 else (1.0, 0.0)
            stay[i * n_states + st] = a * t
            gone[i * n_states + st] = b + a * f


@numba.njit(cache=NUMBA_CACHE, error_model="numpy")
def cause_table(c, parents, card, n_causes, log_absent, log_surv, slots, log_u, table):
    """Write into ``table`` P(c | its latent parent roots) x negative evidence, over (c, roots).

    ``slots`` is the root states' slots and, per slot and cause, the model's inhibitor
    ``q``, ``1 - q``, survival ``s`` and ``1 - s`` (see :func:`slot_terms`), and whether
    each root protects each cause. The table is built by doubling over the parents, as
    :func:`_fire_tables` does, with sums and products of non-negative numbers and no
    ``exp`` per entry. So is the survival, when a latent parent protects ``c``.
    """
    slot_of, q, not_q, surv, not_surv, protective = slots
    half = table.shape[0] // 2
    silent, fires = table[:half], table[half:]
    silent[0], fires[0] = exp_pair(log_absent)
    protected = False
    length = 1
    for j in range(parents.shape[0]):
        r = parents[j] - n_causes
        protected = protected or protective[c, r]
        _double(silent, fires, length, slot_of, r, card[parents[j]], q, not_q, c)
        length *= card[parents[j]]
    u = math.exp(log_u)
    if not protected:  # one survival for every entry
        keep, stop = exp_pair(log_surv)
        for i in range(half):
            silent[i] = silent[i] * keep + stop
            fires[i] *= keep * u
        return
    keep = np.empty(half)
    stop = np.empty(half)
    keep[0], stop[0] = exp_pair(log_surv)
    length = 1
    for j in range(parents.shape[0]):
        r = parents[j] - n_causes
        _double(keep, stop, length, slot_of, r, card[parents[j]], surv, not_surv, c)
        length *= card[parents[j]]
    for i in range(half):
        silent[i] = silent[i] * keep[i] + stop[i]
        fires[i] *= keep[i] * u


def slot_terms(slot_inh, slot_surv):
    """Each slot's inhibitor ``q = exp(log q)``, ``1 - q``, survival ``s`` and ``1 - s``.

    Model constants, so :func:`cause_table` multiplies instead of calling ``exp``; the
    complements come from ``expm1``, exact even when ``q`` is close to 1.
    """
    return np.exp(slot_inh), -np.expm1(slot_inh), np.exp(slot_surv), -np.expm1(slot_surv)


@numba.njit(cache=NUMBA_CACHE, error_model="numpy")
def unary(log_absent, log_surv, log_u):
    """(P(c absent | observed roots), P(c present | observed roots) x negative evidence)."""
    absent, present = exp_pair(log_absent)
    if log_surv == 0.0:  # no protective factor acts: the same numbers, fewer exps
        return absent, present * math.exp(log_u)
    keep, stop = exp_pair(log_surv)
    return absent * keep + stop, present * keep * math.exp(log_u)


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _fire_tables(w_f, parents, log_q, silent, fires):
    """Write P(nothing fires) and P(something fires) for each state of ``parents``.

    Row-major, the first parent slowest; the leak (``log_q``) included. Built by
    doubling: a parent added present gives ``fires + silent * P(it fires)`` and
    ``silent * P(it stays silent)``, sums and products of non-negative numbers, with two
    calls to ``exp`` a parent instead of one for each of the ``2**n`` states.
    """
    silent[0], fires[0] = exp_pair(log_q)
    length = 1
    for j in range(parents.shape[0]):
        stays, fire = exp_pair(w_f[parents[j]])
        for i in range(length - 1, -1, -1):
            s, f = silent[i], fires[i]
            silent[2 * i], fires[2 * i] = s, f
            silent[2 * i + 1], fires[2 * i + 1] = s * stays, f + s * fire
        length *= 2


@numba.njit(cache=NUMBA_CACHE, error_model="numpy")
def finding_table(w_f, scope, log_q, mult, table, ws):
    """Write into ``table`` the noisy-OR P(f present | shared parents).

    ``w_f`` is the finding's column of log-inhibitors. Private parents are folded into
    ``log_q`` and ``mult``. ``ws`` is a workspace (``_workspace.py``) for scratch.
    """
    silent = take_floats(ws, table.shape[0])
    _fire_tables(w_f, scope, log_q, silent, table)
    for i in range(table.shape[0]):
        table[i] *= mult


@numba.njit(cache=NUMBA_CACHE, error_model="numpy")
def chain_head(w_f, group, log_q, mult, table, ws):
    """Write into ``table`` the factor over (group..., y1): y1 = leak or a cause in it fires.

    The leak carries ``mult``; ``ws`` is a workspace for scratch.
    """
    half = table.shape[0] // 2
    silent = take_floats(ws, half)
    fires = take_floats(ws, half)
    _fire_tables(w_f, group, log_q, silent, fires)
    for i in range(half):
        table[2 * i] = mult * silent[i]
        table[2 * i + 1] = mult * fires[i]


@numba.njit(cache=NUMBA_CACHE, error_model="numpy")
def new_factor(store, scope_len, table_len):
    """Reserve the next factor of ``store`` (see ``_elimination``); return its views."""
    fs_at, fs_len, ft_at, ft_len, sc, tb, cur = store
    t = cur[0]
    fs_at[t], fs_len[t], ft_at[t], ft_len[t] = cur[1], scope_len, cur[2], table_len
    cur[0] += 1
    cur[1] += scope_len
    cur[2] += table_len
    return sc[fs_at[t] : fs_at[t] + scope_len], tb[ft_at[t] : ft_at[t] + table_len]


@numba.njit(cache=NUMBA_CACHE, error_model="numpy")
def chain_links(n):
    """How many links a chain over ``n`` parents has (``CHAIN_GROUP`` parents a link)."""
    return (n + CHAIN_GROUP - 1) // CHAIN_GROUP


@numba.njit(cache=NUMBA_CACHE, error_model="numpy")
def chain_factors(w_f, scope, first_var, log_q, mult, store, ws):
    """Add a positive finding's noisy-OR to ``store`` as a chain of small factors.

    The parents (``scope``) go ``CHAIN_GROUP`` to a link, with new binary variables
    y1..y(L-1) numbered from ``first_var``: y1 = leak or a cause of the first group
    fires, yk = y(k-1) or a cause of group k fires, and the finding is y(L-1) or a cause
    of the last group fires, observed present. Summing the y's out gives back
    ``mult * (1 - exp(log_q + sum w c))`` exactly, with every entry non-negative
    (Heckerman & Breese 1996). ``scope`` has more than ``CHAIN_GROUP`` parents, so
    there are at least two links. ``ws`` is a workspace for scratch.
    """
    n = scope.shape[0]
    n_links = chain_links(n)
    g = min(CHAIN_GROUP, n)
    sc, tab = new_factor(store, g + 1, 1 << (g + 1))
    sc[:g] = scope[:g]
    sc[g] = first_var
    chain_head(w_f, scope[:g], log_q, mult, tab, ws)
    silent = take_floats(ws, 1 << CHAIN_GROUP)
    fires = take_floats(ws, 1 << CHAIN_GROUP)
    for link in range(1, n_links):
        lo = link * CHAIN_GROUP
        hi = min(n, lo + CHAIN_GROUP)
        g = hi - lo
        prev = first_var + link - 1
        last = link == n_links - 1
        width = g + 1 if last else g + 2
        sc, tab = new_factor(store, width, 1 << width)
        sc[:g] = scope[lo:hi]
        sc[g] = prev
        if not last:
            sc[g + 1] = prev + 1
        _fire_tables(w_f, scope[lo:hi], 0.0, silent, fires)
        for idx in range(1 << g):
            if last:  # (group, y(L-1)): the finding is present
                tab[2 * idx] = fires[idx]
                tab[2 * idx + 1] = 1.0
            else:  # (group, y(k-1), yk), yk fastest
                tab[4 * idx] = silent[idx]
                tab[4 * idx + 1] = fires[idx]
                tab[4 * idx + 2] = 0.0
                tab[4 * idx + 3] = 1.0


@numba.njit(cache=NUMBA_CACHE, error_model="numpy")
def cause_chain(
    c, parents, card, n_causes, log_absent, log_surv, slot_of, slot_inh, log_u, first_var, store
):
    """Add P(c | latent parents) x negative evidence to ``store`` as a chain of factors.

    The noisy-OR part is chained as for positive findings (y1 = leak or r1 fires, ...,
    with new binary variables from ``first_var``), and the last link yields c itself:
    c = (y(k-1) or rk fires) and not stopped by the (observed) protective factors,
    whose survival ``exp(log_surv)`` and the negative evidence ``exp(log_u)`` weigh
    c = 1. Only for causes whose latent parents are all risk factors (no survival
    term depends on them). Every entry is a sum of non-negative terms.
    """
    k = parents.shape[0]
    keep, stop = exp_pair(log_surv)  # P(not stopped by a protective factor), and not
    weight_on = keep * math.exp(log_u)
    for j in range(k):
        r = parents[j] - n_causes
        n_states = card[parents[j]]
        if j == 0:
            scope, tab = new_factor(store, 2, 2 * n_states)
            scope[0], scope[1] = parents[0], first_var
        else:
            out = c if j == k - 1 else first_var + j
            scope, tab = new_factor(store, 3, 4 * n_states)
            scope[0], scope[1], scope[2] = parents[j], first_var + j - 1, out
        for s in range(n_states):
            slot = slot_of[r, s]
            log_q = slot_inh[slot, c] if slot >= 0 else 0.0
            if j == 0:  # (r1, y1): y1 = leak or r1 fires
                tab[2 * s], tab[2 * s + 1] = exp_pair(log_absent + log_q)
            elif j < k - 1:  # (rj, y(j-1), yj)
                tab[4 * s], tab[4 * s + 1] = exp_pair(log_q)
                tab[4 * s + 2], tab[4 * s + 3] = 0.0, 1.0
            else:  # (rk, y(k-1), c)
                tab[4 * s] = math.exp(log_q + log_surv) + stop
                tab[4 * s + 1] = -math.expm1(log_q) * weight_on
                tab[4 * s + 2] = stop
                tab[4 * s + 3] = weight_on


@numba.njit(cache=NUMBA_CACHE, error_model="numpy")
def fold_private(f, clamp, parents, w, private, log_absent, log_surv, log_u, log_leak):
    """Leak (log) and multiplier of finding f with its private causes summed out.

    ``parents`` are the finding's causes, in increasing order; ``clamp`` is a private
    cause taken as present (its unary weight alone), or -1.
    """
    log_q = log_leak
    mult = 1.0
    for c in parents:
        if private[c]:
            p0, a1 = unary(log_absent[c], log_surv[c], log_u[c])
            if c == clamp:
                log_q += w[c, f]
                mult *= a1
            else:
                log_q += math.log1p(-a1 * -math.expm1(w[c, f]) / (p0 + a1))
                mult *= p0 + a1
    return log_q, mult


@numba.njit(cache=NUMBA_CACHE, error_model="numpy")
def barren_folds(card, root_prior, slot_of, slot_inh, slot_surv, cause_root):
    """Compute what marginalising each root into each of its causes adds to ``la``, ``ls``.

    With P(c | roots) = (1 - exp(la)) exp(ls) and the root independent of the rest, the
    expectation over its prior moves ``log E[s]`` into ``ls`` and ``log E[q s] - log E[s]``
    (never positive, as q <= 1) into ``la``: exact for each cause's own posterior. The
    numbers depend on the model only, so the engine computes them once.

    Returns
    -------
    add_log_absent, add_log_surv : float arrays, shape (R, C)
    """
    n_causes, n_roots = cause_root.shape
    add_log_absent = np.zeros((n_roots, n_causes))
    add_log_surv = np.zeros((n_roots, n_causes))
    for r in range(n_roots):
        for c in range(n_causes):
            if not cause_root[c, r]:
                continue
            e_s = 0.0
            e_qs = 0.0
            for s in range(card[r]):
                slot = slot_of[r, s]
                ls = slot_surv[slot, c] if slot >= 0 else 0.0
                lq = slot_inh[slot, c] if slot >= 0 else 0.0
                e_s += root_prior[r, s] * math.exp(ls)
                e_qs += root_prior[r, s] * math.exp(lq + ls)
            if e_s > 0.0:  # else the cause is surely stopped, whatever its risk
                add_log_absent[r, c] = min(0.0, math.log(e_qs) - math.log(e_s))
            add_log_surv[r, c] = math.log(e_s) if e_s > 0.0 else -np.inf
    return add_log_absent, add_log_surv


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def fold_if_irrelevant(r, barren, add_log_absent, add_log_surv, rc_at, rc, log_absent, log_surv):
    """Marginalise latent root ``r`` into its causes if they are all barren; say if done.

    Adds the root's :func:`barren_folds` (``add_log_absent``, ``add_log_surv``) to each
    of its causes (``rc[rc_at[r] : rc_at[r + 1]]``).
    """
    for k in range(rc_at[r], rc_at[r + 1]):
        if not barren[rc[k]]:
            return False
    for k in range(rc_at[r], rc_at[r + 1]):
        c = rc[k]
        log_absent[c] += add_log_absent[r, c]
        log_surv[c] += add_log_surv[r, c]
    return True
