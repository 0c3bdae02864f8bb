"""Exact posteriors of every cause for a batch of cases: the inference engine.

Algorithm
---------
Variable elimination specialised to each case's evidence, over the noisy-OR factorisation
of the network (Heckerman 1989; Zhang & Poole 1996), compiled with numba and run over the
batch in parallel. Per case:

1. Observed roots (risk factors, age band, sex) fold into each cause's noisy-OR: they only
   change numbers, not structure. An unobserved root acting on a single cause is
   marginalised into it exactly (E[q^r]); other unobserved roots stay as variables.
2. Unobserved findings are barren and drop out. A *negative* finding's probability
   factorises over its parents under noisy-OR, so it becomes one number per cause
   (``P(f absent | c present) / P(f absent | c absent)``); nothing cancels.
3. A *positive* finding becomes one factor over its parents,
   ``1 - exp(log(1 - leak) + sum log r)``, computed with ``expm1`` so it stays accurate.
4. A cause touched by no positive finding and no unobserved root is independent of the
   rest: its posterior has a closed form. The others split into connected components;
   each is eliminated in a greedy order (smallest clique first) chosen on the
   component's interaction graph.
5. All posteriors of a component come from one forward elimination and one backward
   (Hugin) pass over the cliques it built, as in a junction tree: each cause's posterior
   is read off the calibrated clique where it was eliminated. A cause that appears in a
   single positive finding and touches no unknown risk factor ("private" to it) is summed
   out inside that finding's noisy-OR instead, as a new leak; its posterior is the
   expectation, under the calibrated clique, of the finding's factor with the cause
   present divided by the factor itself.

Every quantity is a sum, product or quotient of non-negative numbers, so the result is accurate
to a few ulps however many findings are positive. That is why this engine does not use
Quickscore (Heckerman 1989): its inclusion-exclusion sums alternate in sign and lose
1e-4 to 1e-2 of absolute accuracy with ten or more positive findings (see
``../shared/engine-notes.md``). Tables are rescaled as they are built, so long products
cannot underflow, and ``log P(e)`` is returned exactly alongside the posteriors.

The cost is exponential only in the width of each case's elimination (the causes that
share positive findings or unobserved risk factors), not in the model's size.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numba
import numpy as np

from diffdx.evidence import Evidence
from diffdx.exceptions import ImpossibleEvidenceError, InferenceLimitError
from diffdx.parameters import NoisyOrParameters

__all__ = ["MAX_TABLE_SIZE", "Engine"]

#: Largest clique table (entries) one elimination step may build.
MAX_TABLE_SIZE = 1 << 24
#: Batches at least this long are scored in parallel threads.
PARALLEL_MIN_BATCH = 64
#: A positive finding with more shared parents than this is factorised as a chain.
CHAIN_MIN_PARENTS = 3
_CACHE = os.environ.get("DIFFDX_NUMBA_CACHE", "1") != "0"


@numba.njit(cache=_CACHE)
def _size(scope, card):
    n = 1
    for j in range(scope.shape[0]):
        n *= card[scope[j]]
    return n


@numba.njit(cache=_CACHE)
def _cause_table(
    c, parents, card, n_causes, log_absent, log_surv, slot_of, slot_inh, slot_surv, log_u
):
    """Table over (cause c, its latent parent roots): P(c | roots) x negative evidence."""
    size = 2
    for j in range(parents.shape[0]):
        size *= card[parents[j]]
    half = size // 2
    table = np.empty(size)
    counter = np.zeros(parents.shape[0], np.int64)
    u = math.exp(log_u)
    for idx in range(half):
        la = log_absent
        ls = log_surv
        for j in range(parents.shape[0]):
            slot = slot_of[parents[j] - n_causes, counter[j]]
            if slot >= 0:
                la += slot_inh[slot, c]
                ls += slot_surv[slot, c]
        table[idx] = math.exp(la) * math.exp(ls) - math.expm1(ls)
        table[half + idx] = -math.expm1(la) * math.exp(ls) * u
        j = parents.shape[0] - 1
        while j >= 0:
            counter[j] += 1
            if counter[j] < card[parents[j]]:
                break
            counter[j] = 0
            j -= 1
    return table


@numba.njit(cache=_CACHE)
def _find(parent, x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@numba.njit(cache=_CACHE)
def _index(union, scope, card, scratch):
    """For each entry of a table over ``union``, its index in a table over ``scope``.

    ``scope`` holds a subset of ``union``'s variables, in any order; tables are row-major
    in their own scope's order (the last variable fastest). Built by doubling, one
    contiguous pass per variable, in ``scratch[0]`` (grown when too small); returns a view.
    """
    d = union.shape[0]
    size = 1
    for u in range(d):
        size *= card[union[u]]
    if scratch[0].shape[0] < size:
        scratch[0] = np.empty(max(size, 2 * scratch[0].shape[0]), np.int64)
    out = scratch[0][:size]
    out[0] = 0
    length = 1
    for u in range(d):
        c = card[union[u]]
        stride = 0
        s = 1
        for p in range(scope.shape[0] - 1, -1, -1):
            if scope[p] == union[u]:
                stride = s
                break
            s *= card[scope[p]]
        for i in range(length - 1, -1, -1):
            base = out[i]
            for j in range(c - 1, -1, -1):
                out[i * c + j] = base + j * stride
        length *= c
    return out


@numba.njit(cache=_CACHE)
def _project(table, union, card, scope, out, scratch):
    """Add each entry of ``table`` (over ``union``) into ``out`` (over ``scope``, a subset)."""
    idx = _index(union, scope, card, scratch)
    for k in range(table.shape[0]):
        out[idx[k]] += table[k]


@numba.njit(cache=_CACHE)
def _sort_small(a):
    """Sort a short int array in place (insertion sort: no set-up cost)."""
    for i in range(1, a.shape[0]):
        x = a[i]
        j = i - 1
        while j >= 0 and a[j] > x:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = x


@numba.njit(cache=_CACHE)
def _elimination_order(variables, scopes, card, n_vars):
    """Greedy order on the interaction graph: smallest clique (product of cards) first."""
    n = len(variables)
    local = np.full(n_vars, -1, np.int64)
    for i in range(n):
        local[variables[i]] = i
    log_card = np.empty(n)
    for i in range(n):
        log_card[i] = math.log(card[variables[i]])
    adj = np.zeros((n, n), np.bool_)
    for t in range(len(scopes)):
        sc = scopes[t]
        for a in range(sc.shape[0]):
            for b in range(sc.shape[0]):
                ia, ib = local[sc[a]], local[sc[b]]
                if ia >= 0 and ib >= 0 and ia != ib:
                    adj[ia, ib] = True
    weight = log_card.copy()  # log of the clique size eliminating i would build
    for i in range(n):
        for j in range(n):
            if adj[i, j]:
                weight[i] += log_card[j]
    done = np.zeros(n, np.bool_)
    order = np.empty(n, np.int64)
    nbrs = np.empty(n, np.int64)
    for step in range(n):
        best = -1
        for i in range(n):
            if not done[i] and (best < 0 or weight[i] < weight[best] - 1e-9):
                best = i
        order[step] = variables[best]
        done[best] = True
        k = 0
        for a in range(n):
            if adj[best, a] and not done[a]:
                nbrs[k] = a
                k += 1
        for x in range(k):
            a = nbrs[x]
            adj[a, best] = False
            weight[a] -= log_card[best]
            for y in range(k):
                b = nbrs[y]
                if a != b and not adj[a, b]:
                    adj[a, b] = True
                    weight[a] += log_card[b]
    return order


@numba.njit(cache=_CACHE)
def _calibrate(scopes, tables, order, card, n_vars, cause_out, n_causes):
    """Bucket elimination forward, then a backward (Hugin) pass: calibrated cliques.

    Each clique's scope starts with the variable it eliminates (its slowest digit), so
    summing that variable out and reading its marginal are contiguous passes. Writes
    the posterior of every eliminated cause into ``cause_out`` and returns
    ``(log P(e) of the component, clique scopes, clique beliefs, clique totals, consumer)``
    where ``consumer[t]`` is the clique whose potential includes factor ``t`` (-1: none)
    and each belief sums to its total. Returns log P(e) = NaN when a clique would exceed
    ``MAX_TABLE_SIZE`` and -inf when the evidence has probability zero.
    """
    n = order.shape[0]
    rank = np.full(n_vars, n, np.int64)
    for i in range(n):
        rank[order[i]] = i
    # Bucket i lists the factors whose earliest-eliminated variable is order[i]: a linked
    # list, head[i] -> nxt[t] -> ... -> -1.
    head = np.full(n, -1, np.int64)
    nxt = np.full(len(scopes) + n, -1, np.int64)
    consumer = [-1 for _ in range(len(scopes))]
    scratch = [np.empty(64, np.int64)]
    c_scope = [np.empty(0, np.int64) for _ in range(0)]
    c_belief = [np.empty(0) for _ in range(0)]
    c_total = np.ones(n)
    c_msg = np.empty(n, np.int64)
    z = 1.0
    log_scale = 0.0
    for t in range(len(scopes)):
        b = n
        for x in scopes[t]:
            b = min(b, rank[x])
        if b == n:
            z *= tables[t][0]
        else:
            nxt[t] = head[b]
            head[b] = t
    mark = np.zeros(n_vars, np.bool_)
    gather = np.empty(n_vars, np.int64)
    for i in range(n):
        v = order[i]
        d = 1
        gather[0] = v
        mark[v] = True
        t = head[i]
        while t >= 0:
            for x in scopes[t]:
                if not mark[x]:
                    mark[x] = True
                    gather[d] = x
                    d += 1
            t = nxt[t]
        union = gather[:d].copy()
        _sort_small(union[1:])
        mark[union] = False
        size = 1
        for u in range(d):
            size *= card[union[u]]
        if size > MAX_TABLE_SIZE:
            return np.nan, c_scope, c_belief, c_total, consumer
        # psi = product of the members; msg = psi summed over v (the slowest digit).
        psi = np.ones(size)
        t = head[i]
        while t >= 0:
            idx = _index(union, scopes[t], card, scratch)
            tab = tables[t]
            for k in range(size):
                psi[k] *= tab[idx[k]]
            consumer[t] = i
            t = nxt[t]
        half = size // card[v]
        msg = psi[:half].copy()
        for s in range(1, card[v]):
            block = psi[s * half : (s + 1) * half]
            for k in range(half):
                msg[k] += block[k]
        peak = msg.max()
        if not peak > 0.0:
            return -np.inf, c_scope, c_belief, c_total, consumer
        msg /= peak
        log_scale += math.log(peak)
        c_scope.append(union)
        c_belief.append(psi)
        c_msg[i] = len(scopes)
        consumer.append(-1)
        scopes.append(union[1:].copy())
        tables.append(msg)
        b = n
        for x in union[1:]:
            b = min(b, rank[x])
        if b == n:
            z *= msg[0]
        else:
            nxt[c_msg[i]] = head[b]
            head[b] = c_msg[i]
    if not z > 0.0:
        return -np.inf, c_scope, c_belief, c_total, consumer
    # Backward pass, parents (eliminated later) before children: belief = psi x delta,
    # delta = (parent belief summed onto the separator) / (forward message).
    for i in range(n - 1, -1, -1):
        msg = tables[c_msg[i]]
        half = msg.shape[0]
        parent = consumer[c_msg[i]]
        delta = np.ones(half)
        if parent >= 0:
            marg = np.zeros(half)
            _project(c_belief[parent], c_scope[parent], card, scopes[c_msg[i]], marg, scratch)
            for k in range(half):
                delta[k] = marg[k] / (msg[k] * c_total[parent]) if msg[k] > 0.0 else 0.0
        belief = c_belief[i]
        total = 0.0
        on = 0.0
        for s in range(belief.shape[0] // half):
            part = 0.0
            block = belief[s * half : (s + 1) * half]
            for k in range(half):
                block[k] *= delta[k]
                part += block[k]
            total += part
            if s == 1:
                on = part
        c_total[i] = total
        v = order[i]
        if v < n_causes:
            cause_out[v] = on / total
    return math.log(z) + log_scale, c_scope, c_belief, c_total, consumer


@numba.njit(cache=_CACHE)
def _unary(log_absent, log_surv, log_u):
    """(P(c absent | observed roots), P(c present | observed roots) x negative evidence)."""
    p1 = -math.expm1(log_absent) * math.exp(log_surv)
    p0 = math.exp(log_absent) * math.exp(log_surv) - math.expm1(log_surv)
    return p0, p1 * math.exp(log_u)


@numba.njit(cache=_CACHE)
def _finding_table(f, scope, w, log_q, mult):
    """Noisy-OR P(f present | shared parents), private parents folded into log_q, mult."""
    n_par = scope.shape[0]
    table = np.empty(1 << n_par)
    for idx in range(1 << n_par):
        acc = log_q
        for j in range(n_par):
            if (idx >> (n_par - 1 - j)) & 1:
                acc += w[scope[j], f]
        table[idx] = mult * -math.expm1(acc)
    return table


@numba.njit(cache=_CACHE)
def _chain_head(w1, log_q, mult):
    """Table over (c1, y1): y1 = the leak or c1 fires (the leak carries ``mult``)."""
    table = np.empty(4)
    for c1 in range(2):
        acc = log_q + c1 * w1
        table[2 * c1] = mult * math.exp(acc)
        table[2 * c1 + 1] = mult * -math.expm1(acc)
    return table


@numba.njit(cache=_CACHE)
def _chain_factors(w_f, scope, first_var, log_q, mult, scopes, tables):
    """Append a positive finding's noisy-OR as a chain of small factors.

    With parents c1..cn (``scope``) and new binary variables y1..y(n-1) numbered from
    ``first_var``: y1 = leak or c1 fires, yk = y(k-1) or ck fires, and the finding is
    y(n-1) or cn fires, observed present. Summing the y's out gives back
    ``mult * (1 - exp(log_q + sum w c))`` exactly, with every entry non-negative, while
    the largest factor has three variables instead of n (Heckerman & Breese 1996).
    """
    n = scope.shape[0]
    scopes.append(np.array([scope[0], first_var], np.int64))
    tables.append(_chain_head(w_f[scope[0]], log_q, mult))
    for k in range(1, n):
        fires = -math.expm1(w_f[scope[k]])  # P(ck fires | ck present)
        silent = math.exp(w_f[scope[k]])
        prev = first_var + k - 1
        if k < n - 1:  # (ck, y(k-1), yk), yk fastest
            scopes.append(np.array([scope[k], prev, prev + 1], np.int64))
            tables.append(np.array([1.0, 0.0, 0.0, 1.0, silent, fires, 0.0, 1.0]))
        else:  # (cn, y(n-1)): the finding is present
            scopes.append(np.array([scope[k], prev], np.int64))
            tables.append(np.array([0.0, 1.0, fires, 1.0]))


@numba.njit(cache=_CACHE)
def _fold_private(f, clamp, w, private, log_absent, log_surv, log_u, log_leak):
    """Leak (log) and multiplier of finding f with its private causes summed out.

    ``clamp`` is a private cause taken as present (its unary weight alone), or -1.
    """
    log_q = log_leak
    mult = 1.0
    for c in range(w.shape[0]):
        if w[c, f] != 0.0 and private[c]:
            p0, a1 = _unary(log_absent[c], log_surv[c], log_u[c])
            if c == clamp:
                log_q += w[c, f]
                mult *= a1
            else:
                log_q += math.log1p(-a1 * -math.expm1(w[c, f]) / (p0 + a1))
                mult *= p0 + a1
    return log_q, mult


@numba.njit(cache=_CACHE)
def _infer_case(root_ev, finding_ev, m, out):
    """Posteriors of every cause for one case into ``out``; return log P(evidence).

    ``m`` is :meth:`Engine.arrays`. Returns NaN when a table would exceed
    ``MAX_TABLE_SIZE`` and -inf when the evidence has probability zero.
    """
    (
        card,
        root_prior,
        slot_of,
        slot_inh,
        slot_surv,
        cause_log_leak,
        cause_root,
        finding_log_leak,
        w,
        fold_child,
        fold_log_absent,
        fold_log_surv,
    ) = m
    n_causes = cause_log_leak.shape[0]
    n_roots = root_ev.shape[0]
    n_findings = finding_ev.shape[0]
    n_vars = n_causes + n_roots
    log_pe = 0.0
    # 1. Observed roots change each cause's noisy-OR numbers; an unobserved root with a
    #    single child is marginalised into that child exactly (E[q^r] multiplies P(absent)).
    log_absent = cause_log_leak.copy()
    log_surv = np.zeros(n_causes)
    latent = np.zeros(n_roots, np.bool_)
    for r in range(n_roots):
        s = root_ev[r]
        if s >= 0:
            log_pe += math.log(root_prior[r, s])
            slot = slot_of[r, s]
            if slot >= 0:
                for c in range(n_causes):
                    log_absent[c] += slot_inh[slot, c]
                    log_surv[c] += slot_surv[slot, c]
        elif fold_child[r] >= 0:
            log_absent[fold_child[r]] += fold_log_absent[r]
            log_surv[fold_child[r]] += fold_log_surv[r]
        else:
            latent[r] = True
    # 2. Negative findings become one number per cause; positive ones are listed.
    log_u = np.zeros(n_causes)
    positives = []
    for f in range(n_findings):
        if finding_ev[f] == 0:
            log_pe += finding_log_leak[f]
            for c in range(n_causes):
                log_u[c] += w[c, f]
        elif finding_ev[f] == 1:
            positives.append(f)
    # 3. Structure: which causes touch latent roots, how many positive findings each has.
    has_latent = np.zeros(n_causes, np.bool_)
    for c in range(n_causes):
        for r in range(n_roots):
            if latent[r] and cause_root[c, r]:
                has_latent[c] = True
    n_pos = np.zeros(n_causes, np.int64)
    for f in positives:
        for c in range(n_causes):
            if w[c, f] != 0.0:
                n_pos[c] += 1
    # A cause in exactly one positive finding and no latent root is "private" to it: it
    # is summed out inside that finding's noisy-OR (a new leak), never becoming a variable.
    private = np.zeros(n_causes, np.bool_)
    for c in range(n_causes):
        private[c] = n_pos[c] == 1 and not has_latent[c]
    # Union-find over causes (0..C-1) and latent roots (C..C+R-1).
    parent = np.arange(n_vars)
    in_ve = np.zeros(n_vars, np.bool_)
    for c in range(n_causes):
        if has_latent[c]:
            in_ve[c] = True
            for r in range(n_roots):
                if latent[r] and cause_root[c, r]:
                    in_ve[n_causes + r] = True
                    a, b = _find(parent, c), _find(parent, n_causes + r)
                    parent[a] = b
    for f in positives:
        first = -1
        for c in range(n_causes):
            if w[c, f] != 0.0:
                in_ve[c] = True
                if first < 0:
                    first = c
                else:
                    a, b = _find(parent, c), _find(parent, first)
                    parent[a] = b
    # 4. Closed form for causes outside every component.
    for c in range(n_causes):
        if not in_ve[c]:
            p0, a1 = _unary(log_absent[c], log_surv[c], log_u[c])
            z = p0 + a1
            out[c] = a1 / z
            log_pe += math.log(z)
    # Positive findings with many shared parents are chained (see _chain_factors); each
    # chain adds binary variables after the causes and roots.
    n_chain = 0
    for f in positives:
        n_par = 0
        for c in range(n_causes):
            if w[c, f] != 0.0 and not private[c]:
                n_par += 1
        if n_par > CHAIN_MIN_PARENTS:
            n_chain += n_par - 1
    card_all = np.full(n_vars + n_chain, 2, np.int64)
    for r in range(n_roots):
        card_all[n_causes + r] = card[r]
    next_var = n_vars
    done = np.zeros(n_vars, np.bool_)
    # 5. Each component: build factors, calibrate, read the posteriors.
    for seed in range(n_vars):
        if not in_ve[seed] or done[seed]:
            continue
        root = _find(parent, seed)
        variables = []  # to eliminate: non-private causes and latent roots
        for x in range(n_vars):
            if in_ve[x] and _find(parent, x) == root:
                done[x] = True
                if x >= n_causes or not private[x]:
                    variables.append(x)
        scopes = [np.empty(0, np.int64) for _ in range(0)]
        tables = [np.empty(0) for _ in range(0)]
        for x in variables:
            if x < n_causes:  # P(c | latent parents) x negative evidence
                c = x
                n_par = 0
                for r in range(n_roots):
                    if latent[r] and cause_root[c, r]:
                        n_par += 1
                scope = np.empty(n_par + 1, np.int64)
                scope[0] = c
                j = 1
                for r in range(n_roots):
                    if latent[r] and cause_root[c, r]:
                        scope[j] = n_causes + r
                        j += 1
                scopes.append(scope)
                tables.append(
                    _cause_table(
                        c,
                        scope[1:],
                        card_all,
                        n_causes,
                        log_absent[c],
                        log_surv[c],
                        slot_of,
                        slot_inh,
                        slot_surv,
                        log_u[c],
                    )
                )
            else:  # prior of a latent root
                r = x - n_causes
                scopes.append(np.array([x], np.int64))
                tables.append(root_prior[r, : card[r]].copy())
        finding_factor = []  # (positive finding, its factor index), for private causes
        for f in positives:
            if _find(parent, int(np.argmax(w[:, f] != 0.0))) != root:
                continue
            log_q, mult = _fold_private(
                f, -1, w, private, log_absent, log_surv, log_u, finding_log_leak[f]
            )
            n_par = 0
            for c in range(n_causes):
                if w[c, f] != 0.0 and not private[c]:
                    n_par += 1
            scope = np.empty(n_par, np.int64)
            j = 0
            for c in range(n_causes):
                if w[c, f] != 0.0 and not private[c]:
                    scope[j] = c
                    j += 1
            finding_factor.append((f, len(scopes)))
            if n_par <= CHAIN_MIN_PARENTS:
                scopes.append(scope)
                tables.append(_finding_table(f, scope, w, log_q, mult))
                continue
            for k in range(n_par - 1):
                variables.append(next_var + k)
            _chain_factors(w[:, f], scope, next_var, log_q, mult, scopes, tables)
            next_var += n_par - 1
        order = _elimination_order(variables, scopes, card_all, card_all.shape[0])
        log_z, c_scope, beliefs, totals, consumer = _calibrate(
            scopes, tables, order, card_all, card_all.shape[0], out, n_causes
        )
        if not log_z > -np.inf:
            return log_z
        log_pe += log_z
        # Private causes: P(p, e) / P(e) = E_belief[ phi_f with p present / phi_f ].
        for f, t in finding_factor:
            scope = scopes[t]
            base = tables[t]
            for p in range(n_causes):
                if not (private[p] and w[p, f] != 0.0):
                    continue
                log_q, mult = _fold_private(
                    f, p, w, private, log_absent, log_surv, log_u, finding_log_leak[f]
                )
                if scope.shape[0] == 2 and scope[1] >= n_vars:  # head of a chain
                    ratio = _chain_head(w[scope[0], f], log_q, mult)
                else:
                    ratio = _finding_table(f, scope, w, log_q, mult)
                for k in range(ratio.shape[0]):
                    ratio[k] = ratio[k] / base[k] if base[k] > 0.0 else 0.0
                k_clique = consumer[t]
                if k_clique < 0:  # no shared parent: the factor is a scalar
                    out[p] = ratio[0]
                    continue
                marg = np.zeros(ratio.shape[0])
                _project(
                    beliefs[k_clique],
                    c_scope[k_clique],
                    card_all,
                    scope,
                    marg,
                    [np.empty(0, np.int64)],
                )
                out[p] = np.dot(marg, ratio) / totals[k_clique]
    return log_pe


@numba.njit(cache=_CACHE)
def _batch_serial(roots, findings, m, post, log_pe):
    for i in range(roots.shape[0]):
        log_pe[i] = _infer_case(roots[i], findings[i], m, post[i])


@numba.njit(cache=_CACHE, parallel=True)
def _batch_parallel(roots, findings, m, post, log_pe):
    for i in numba.prange(roots.shape[0]):
        log_pe[i] = _infer_case(roots[i], findings[i], m, post[i])


@dataclass(frozen=True, eq=False)
class Engine:
    """Exact batched inference for one model's :class:`~diffdx.parameters.NoisyOrParameters`.

    Examples
    --------
    >>> from diffdx import load_kb
    >>> from diffdx.evidence import parse_case
    >>> from diffdx.parameters import noisy_or_parameters
    >>> kb = load_kb("calf_pain")
    >>> engine = Engine.from_parameters(noisy_or_parameters(kb))
    >>> post, log_pe = engine.posteriors(parse_case(kb, {}))
    >>> post.shape == (1, len(kb.causes)), abs(float(log_pe[0])) < 1e-12
    (True, True)
    """

    names: tuple[tuple[str, ...], tuple[str, ...]]
    card: np.ndarray
    root_prior: np.ndarray
    slot_of: np.ndarray
    slot_log_inhibitor: np.ndarray
    slot_log_survival: np.ndarray
    cause_log_leak: np.ndarray
    cause_root: np.ndarray
    finding_log_leak: np.ndarray
    cause_log_inhibitor: np.ndarray
    fold_child: np.ndarray
    fold_log_absent: np.ndarray
    fold_log_survival: np.ndarray

    def arrays(self) -> tuple[np.ndarray, ...]:
        """Return the arrays the compiled code reads, in its order."""
        return (
            self.card,
            self.root_prior,
            self.slot_of,
            self.slot_log_inhibitor,
            self.slot_log_survival,
            self.cause_log_leak,
            self.cause_root,
            self.finding_log_leak,
            self.cause_log_inhibitor,
            self.fold_child,
            self.fold_log_absent,
            self.fold_log_survival,
        )

    @classmethod
    def from_parameters(cls, params: NoisyOrParameters) -> Engine:
        """Lay out a model's parameters as the contiguous arrays the compiled code reads."""
        n_roots = len(params.roots)
        card = np.array([len(s) for s in params.root_states], dtype=np.int64)
        root_prior = np.zeros((n_roots, card.max()))
        for r, prior in enumerate(params.root_prior):
            root_prior[r, : len(prior)] = prior
        slot_of = np.full((n_roots, card.max()), -1, dtype=np.int64)
        slot_of[params.slot_root, params.slot_state] = np.arange(len(params.slot_root))
        acts = (params.slot_log_inhibitor != 0) | (params.slot_log_survival != 0)  # (S, C)
        cause_root = np.zeros((len(params.causes), n_roots), dtype=np.bool_)
        for s, r in enumerate(params.slot_root):
            cause_root[:, r] |= acts[s]
        # A root acting on a single cause, only as a risk or only as a protective factor,
        # is marginalised into that cause when unobserved: E[q^r] (or E[(1-s)^r]).
        fold_child = np.full(n_roots, -1, dtype=np.int64)
        fold_log_absent = np.zeros(n_roots)
        fold_log_survival = np.zeros(n_roots)
        for r in range(n_roots):
            children = np.flatnonzero(cause_root[:, r])
            if len(children) != 1:
                continue
            c = int(children[0])
            log_q, log_s = params.root_slot_logs(c, r)
            if np.any(log_q != 0) and np.any(log_s != 0):
                continue
            prior = params.root_prior[r]
            fold_child[r] = c
            fold_log_absent[r] = np.log(np.dot(prior, np.exp(log_q)))
            fold_log_survival[r] = np.log(np.dot(prior, np.exp(log_s)))
        return cls(
            names=(params.causes, params.findings),
            card=card,
            root_prior=root_prior,
            slot_of=slot_of,
            slot_log_inhibitor=np.ascontiguousarray(params.slot_log_inhibitor),
            slot_log_survival=np.ascontiguousarray(params.slot_log_survival),
            cause_log_leak=np.ascontiguousarray(params.cause_log_leak),
            cause_root=cause_root,
            finding_log_leak=np.ascontiguousarray(params.finding_log_leak),
            cause_log_inhibitor=np.ascontiguousarray(params.cause_log_inhibitor),
            fold_child=fold_child,
            fold_log_absent=fold_log_absent,
            fold_log_survival=fold_log_survival,
        )

    def posteriors(self, evidence: Evidence) -> tuple[np.ndarray, np.ndarray]:
        """Exact P(cause present | evidence) for every case and cause, and log P(evidence).

        Parameters
        ----------
        evidence : Evidence
            ``n`` cases.

        Returns
        -------
        posteriors : ndarray, shape (n, C)
        log_evidence : ndarray, shape (n,)
            ``log P(evidence)`` of each case (the observed roots and findings).

        Raises
        ------
        ImpossibleEvidenceError
            If a case's evidence has probability zero under the model.
        InferenceLimitError
            If a case needs an elimination table over ``MAX_TABLE_SIZE`` entries.
        """
        post, log_pe, problems = self.posteriors_by_row(evidence)
        for problem in problems:
            if problem is not None:
                raise problem
        return post, log_pe

    def posteriors_by_row(
        self, evidence: Evidence
    ) -> tuple[np.ndarray, np.ndarray, list[Exception | None]]:
        """Like :meth:`posteriors`, but a case that fails does not stop the others.

        Returns
        -------
        posteriors, log_evidence : ndarray
            As :meth:`posteriors`; the rows of failed cases are meaningless.
        problems : list of Exception or None
            For each case, the error it would raise, or None.
        """
        roots = np.ascontiguousarray(evidence.roots, dtype=np.int8)
        findings = np.ascontiguousarray(evidence.findings, dtype=np.int8)
        n = roots.shape[0]
        post = np.zeros((n, self.cause_log_leak.shape[0]))
        log_pe = np.zeros(n)
        run = _batch_parallel if n >= PARALLEL_MIN_BATCH else _batch_serial
        run(roots, findings, self.arrays(), post, log_pe)
        problems: list[Exception | None] = [None] * n
        for i in np.flatnonzero(~np.isfinite(log_pe)):
            if np.isnan(log_pe[i]):
                problems[i] = InferenceLimitError(
                    f"Case {i} needs an elimination table larger than {MAX_TABLE_SIZE} "
                    "entries; observe more risk factors or findings."
                )
            else:
                problems[i] = ImpossibleEvidenceError(
                    f"Case {i}: the evidence has probability zero under the model "
                    f"(observed: {self._describe(evidence, int(i))})."
                )
        return post, log_pe, problems

    def _describe(self, evidence: Evidence, i: int) -> str:
        names = self.names
        pos = [names[1][f] for f in np.flatnonzero(evidence.findings[i] == 1)]
        neg = [names[1][f] for f in np.flatnonzero(evidence.findings[i] == 0)]
        return f"present: {', '.join(pos) or 'none'}; absent: {', '.join(neg) or 'none'}"
