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
   (``P(f absent | c present) / P(f absent | c absent)``); nothing cancels. A cause left
   with no observed finding is barren too, so an unobserved root whose causes are all
   barren keeps its prior: it is marginalised into each of them like a single-child root.
3. A *positive* finding becomes one factor over its parents,
   ``1 - exp(log(1 - leak) + sum log r)``, computed with ``expm1`` so it stays accurate.
   With more than ``CHAIN_MIN_PARENTS`` shared parents it is written as a chain
   instead, ``CHAIN_GROUP`` parents a link (y1 = leak or a cause of the first group
   fires, yk = y(k-1) or a cause of group k fires; the temporal decomposition of
   Heckerman & Breese 1996), every entry non-negative, so the elimination never has to
   build a table over all of its parents at once. A cause's own CPT given more than that
   many unknown risk factors is chained too, one risk factor a link.
4. A cause touched by no positive finding and no unobserved root is independent of the
   rest: its posterior has a closed form. The others split into connected components;
   each is eliminated in a greedy order chosen on the component's interaction graph
   (``diffdx._elimination``): smallest clique first, or, when that order's tables
   would be large, fewest fill-in edges first if it builds smaller ones (on cases with
   11 or more positive findings, it halves the mean time and cuts the worst by 5x).
5. All posteriors of a component come from one forward elimination and one backward
   (Hugin) pass over the cliques it built, as in a junction tree: each cause's posterior
   is read off the calibrated clique where it was eliminated. A cause that appears in a
   single positive finding and touches no unknown risk factor ("private" to it) is summed
   out inside that finding's noisy-OR instead, as a new leak; its posterior is the
   expectation, under the calibrated clique, of the finding's factor with the cause
   present divided by the factor itself. Likewise a "leaf" cause, with no positive
   finding but unknown risk factors, is summed out of its own CPT into a factor over
   those risk factors (merged with any other over the same ones); its posterior is the
   expectation of P(cause present | risk factors, its evidence) under their calibrated
   joint. On the bundled model's cases, a quarter of the variables were leaves.

Every quantity is a sum, product or quotient of non-negative numbers, so the result is accurate
to a few ulps however many findings are positive. That is why this engine does not use
Quickscore (Heckerman 1989): its inclusion-exclusion sums alternate in sign and lose
1e-4 to 1e-2 of absolute accuracy with ten or more positive findings (see
``../shared/engine-notes.md``). Tables are rescaled as they are built, so long products
cannot underflow, and ``log P(e)`` is returned exactly alongside the posteriors.

The cost is exponential only in the width of each case's elimination (the causes that
share positive findings or unobserved risk factors), not in the model's size; see
``benchmarks/growth.py`` for how it grows with causes and positive findings.

Memory is bounded per case. The elimination's sizes are known before any arithmetic
(:func:`~diffdx._elimination.calibrate`'s symbolic pass), so a case whose tables would
exceed its budget gives up at once: in a parallel batch it waits and runs alone after
the others (:data:`PARALLEL_CASE_BYTES`, then :func:`max_case_bytes`), and beyond that it
is an :class:`~diffdx.exceptions.InferenceLimitError` for that case only. A case's
arrays do not come from ``malloc``: each thread carves them out of its own workspace,
kept between calls (``_workspace.py``), and frees them all at once after the case.
"""

from __future__ import annotations

import math
import os
from collections import namedtuple
from dataclasses import dataclass

import numba
import numpy as np

from diffdx._borrow import borrowed, keep_alive
from diffdx._elimination import (
    MAX_TABLE_SIZE,
    calibrate,
    elimination_order,
    marginal_of_first,
    project,
)
from diffdx._jit import NUMBA_CACHE
from diffdx._noisy_or import (
    CHAIN_GROUP,
    barren_folds,
    cause_chain,
    cause_table,
    chain_factors,
    chain_head,
    chain_links,
    finding_table,
    fold_if_irrelevant,
    fold_private,
    new_factor,
    slot_terms,
    unary,
)
from diffdx._workspace import (
    WorkspacePool,
    full_flags,
    full_floats,
    full_ints,
    mark,
    release,
    take_flags,
    take_floats,
    take_ints,
    workspace,
)
from diffdx.evidence import Evidence
from diffdx.exceptions import (
    ImpossibleEvidenceError,
    InferenceLimitError,
    InvalidParameterError,
)
from diffdx.parameters import NoisyOrParameters

__all__ = ["MAX_CASE_BYTES", "MAX_TABLE_SIZE", "Engine", "max_case_bytes"]

#: Batches at least this long are scored in parallel threads.
PARALLEL_MIN_BATCH = 4
#: Memory (bytes) one case's elimination tables may take, by default; the environment
#: variable ``DIFFDX_MAX_CASE_MB`` overrides it. A case that needs more is an
#: :class:`~diffdx.exceptions.InferenceLimitError`. Scoring a file needs about 350 MB
#: besides (20,000-row chunks), so ``diffdx score`` stays under 1 GB.
MAX_CASE_BYTES = 448 << 20
#: Memory (bytes) each case may take while cases run in parallel threads. A case that
#: needs more waits, and runs alone after the batch with the full budget.
PARALLEL_CASE_BYTES = 96 << 20
#: A positive finding with more shared parents than this is factorised as a chain (as
#: is a cause's CPT with more latent parents): past ``CHAIN_GROUP + 2`` parents, a
#: single table would be larger than a chain's links.
CHAIN_MIN_PARENTS = CHAIN_GROUP + 2
#: Scratch memory of the threads scoring cases, kept between calls (``_workspace.py``).
_WORKSPACES = WorkspacePool()
#: The kernels compiled in (see ``_jit.py``).
KERNEL_SOURCES_SHA256 = "3d4eebcba81987eb"

# The steps' functions below are inlined into :func:`_infer_case` by numba
# (``inline="always"``): each is called once per case or component, yet a call between
# jitted functions passes every array with its reference count (about 2% of the time).
# For the same reason, loops over one row of an adjacency list run over its indices
# (``for k in range(at[i], at[i + 1])``), not over the slice ``arr[at[i] : at[i + 1]]``:
# a slice is a new view, with its own reference count (about 2% more).

#: What steps 1-3 learn about one case, for the builders of each component: the
#: per-cause numbers (``log_absent``, ``log_surv``, ``log_u``), the latent roots, each
#: cause's latent-parent count and list (``lat[lat_at[c] : lat_at[c + 1]]``, root ids)
#: and role (``private``, ``leaf``, ``chained``), and for each positive finding its id,
#: shared-parent count and component.
CaseState = namedtuple(
    "CaseState",
    "log_absent log_surv log_u latent n_latent_par lat_at lat private leaf chained positives "
    "pos_par pos_root",
)


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _find(parent, x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _observe(root_ev, finding_ev, m, ws):
    """Fold observed roots and negative findings into per-cause numbers (steps 1-2).

    Returns ``log P(observed roots, negative findings' leaks)``, each cause's noisy-OR
    ``log_absent`` and protective ``log_surv``, the latent roots, each cause's negative
    evidence ``log_u`` and the positive findings that have a cause (so every listed
    positive has at least one parent; a causeless one adds its leak to the log).
    """
    slot_of, slot_inh, slot_surv = m[2], m[3], m[4]
    cause_log_leak, finding_log_leak, w, root_log_prior = m[5], m[7], m[8], m[20]
    fold_child, fold_log_absent, fold_log_surv = m[9], m[10], m[11]
    par_at, par, rc_at, rc = m[14], m[15], m[18], m[19]
    n_causes = cause_log_leak.shape[0]
    n_roots = root_ev.shape[0]
    log_pe = 0.0
    log_absent = take_floats(ws, n_causes)
    log_absent[:] = cause_log_leak
    log_surv = full_floats(ws, n_causes, 0.0)
    latent = full_flags(ws, n_roots, False)
    for r in range(n_roots):
        s = root_ev[r]
        if s >= 0:
            log_pe += root_log_prior[r, s]
            slot = slot_of[r, s]
            if slot >= 0:
                for c_at in range(rc_at[r], rc_at[r + 1]):
                    c = rc[c_at]
                    log_absent[c] += slot_inh[slot, c]
                    log_surv[c] += slot_surv[slot, c]
        elif fold_child[r] >= 0:
            log_absent[fold_child[r]] += fold_log_absent[r]
            log_surv[fold_child[r]] += fold_log_surv[r]
        else:
            latent[r] = True
    log_u = full_floats(ws, n_causes, 0.0)
    n_pos = 0
    for f in range(finding_ev.shape[0]):
        if finding_ev[f] == 0:
            log_pe += finding_log_leak[f]
            for c_at in range(par_at[f], par_at[f + 1]):
                c = par[c_at]
                log_u[c] += w[c, f]
        elif finding_ev[f] == 1 and par_at[f] == par_at[f + 1]:  # only its leak acts
            log_pe += math.log(-math.expm1(finding_log_leak[f]))
        elif finding_ev[f] == 1:
            n_pos += 1
    positives = take_ints(ws, n_pos)
    j = 0
    for f in range(finding_ev.shape[0]):
        if finding_ev[f] == 1 and par_at[f] < par_at[f + 1]:
            positives[j] = f
            j += 1
    return log_pe, log_absent, log_surv, latent, log_u, positives


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _roles(positives, latent, log_absent, log_surv, log_u, m, ws):
    """Step 3: which latent roots stay, and which causes are private to one finding or leaves.

    Folds the latent roots of barren causes (see :func:`~diffdx._noisy_or.fold_if_irrelevant`) and
    returns each cause's count and list of latent parents, whether it is private and
    whether it is a leaf (no positive finding, and at most ``CHAIN_MIN_PARENTS`` latent
    parents).
    """
    cause_root, par_at, par, cr_at, cr = m[6], m[14], m[15], m[16], m[17]
    add_log_absent, add_log_surv, rc_at, rc = m[12], m[13], m[18], m[19]
    n_causes, n_roots = cause_root.shape
    n_pos_of = full_ints(ws, n_causes, 0)  # positive findings of each cause
    for f in positives:
        for c_at in range(par_at[f], par_at[f + 1]):
            c = par[c_at]
            n_pos_of[c] += 1
    barren = take_flags(ws, n_causes)
    for c in range(n_causes):
        barren[c] = n_pos_of[c] == 0 and log_u[c] == 0.0
    for r in range(n_roots):
        if latent[r] and fold_if_irrelevant(
            r, barren, add_log_absent, add_log_surv, rc_at, rc, log_absent, log_surv
        ):
            latent[r] = False
    n_latent_par = take_ints(ws, n_causes)
    lat_at = take_ints(ws, n_causes + 1)  # cause c's latent parents: lat[lat_at[c]:...]
    lat = take_ints(ws, cr.shape[0])
    k = 0
    for c in range(n_causes):
        lat_at[c] = k
        for r_at in range(cr_at[c], cr_at[c + 1]):
            r = cr[r_at]
            if latent[r]:
                lat[k] = r
                k += 1
        n_latent_par[c] = k - lat_at[c]
    lat_at[n_causes] = k
    private = take_flags(ws, n_causes)
    leaf = take_flags(ws, n_causes)
    for c in range(n_causes):
        private[c] = n_pos_of[c] == 1 and n_latent_par[c] == 0
        leaf[c] = n_pos_of[c] == 0 and 0 < n_latent_par[c] <= CHAIN_MIN_PARENTS
    return n_latent_par, lat_at, lat, private, leaf


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _components(positives, lat_at, lat, m, ws):
    """Union-find over causes (0..C-1) and latent roots (C..C+R-1) that must be eliminated.

    A cause is in the elimination when it has a latent parent or a positive finding;
    it is joined to its latent parents and to the other parents of its positive findings.
    """
    cause_root, par_at, par = m[6], m[14], m[15]
    n_causes, n_roots = cause_root.shape
    parent = take_ints(ws, n_causes + n_roots)
    for x in range(n_causes + n_roots):
        parent[x] = x
    in_ve = full_flags(ws, n_causes + n_roots, False)
    for c in range(n_causes):
        for k in range(lat_at[c], lat_at[c + 1]):
            in_ve[c] = True
            in_ve[n_causes + lat[k]] = True
            a, b = _find(parent, c), _find(parent, n_causes + lat[k])
            parent[a] = b
    for f in positives:
        first = -1
        for c_at in range(par_at[f], par_at[f + 1]):
            c = par[c_at]
            in_ve[c] = True
            if first < 0:
                first = c
            else:
                a, b = _find(parent, c), _find(parent, first)
                parent[a] = b
    return parent, in_ve


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _chain_plan(positives, n_latent_par, lat_at, lat, private, parent, m, ws):
    """Plan the chains (:func:`~diffdx._noisy_or.chain_factors`): which factors, how many variables.

    Returns, for each positive finding, its shared (non-private) parents and component;
    which causes have their CPT chained; and the number of chain variables.
    """
    cause_root, par_at, par, protective = m[6], m[14], m[15], m[21]
    n_causes = cause_root.shape[0]
    n_pos = positives.shape[0]
    pos_par = full_ints(ws, n_pos, 0)
    pos_root = take_ints(ws, n_pos)
    n_chain = 0
    for j in range(n_pos):
        f = positives[j]
        pos_root[j] = _find(parent, par[par_at[f]])
        for c_at in range(par_at[f], par_at[f + 1]):
            c = par[c_at]
            if not private[c]:
                pos_par[j] += 1
        if pos_par[j] > CHAIN_MIN_PARENTS:
            n_chain += chain_links(pos_par[j]) - 1
    # A cause with many latent parents has its CPT chained too, unless a latent parent is
    # protective (its survival term would depend on that parent).
    chained = full_flags(ws, n_causes, False)
    for c in range(n_causes):
        if n_latent_par[c] > CHAIN_MIN_PARENTS:
            chained[c] = True
            for k in range(lat_at[c], lat_at[c + 1]):
                chained[c] = chained[c] and not protective[c, lat[k]]
            if chained[c]:
                n_chain += n_latent_par[c] - 1
    return pos_par, pos_root, chained, n_chain


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _cpt_size(c, lat_at, lat, card):
    """Entries of cause ``c``'s table over itself and its latent parents."""
    size = 2
    for k in range(lat_at[c], lat_at[c + 1]):
        size *= card[lat[k]]
    return size


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _collect(root, parent, in_ve, done, case, variables, leaves, m, ws):
    """List component ``root``'s variables into ``variables``, its leaf causes into ``leaves``.

    Returns the number of causes and roots listed (chain variables come after them),
    the number of leaves and the factor store, each buffer allocated once at its final
    size (or more).
    """
    n_latent_par, lat_at, lat = case.n_latent_par, case.lat_at, case.lat
    private, leaf, chained = case.private, case.leaf, case.chained
    positives, pos_par, pos_root = case.positives, case.pos_par, case.pos_root
    card, cause_root = m[0], m[6]
    n_causes, n_roots = cause_root.shape
    n_var = 0
    n_leaf = 0
    n_chain_vars = 0
    n_fac = 0
    sc_total = 0
    tb_total = 0
    for x in range(n_causes + n_roots):
        if in_ve[x] and _find(parent, x) == root:
            done[x] = True
            if x < n_causes and private[x]:
                continue
            if x < n_causes and leaf[x]:  # a factor over its latent parents, and its ratios
                leaves[n_leaf] = x
                n_leaf += 1
                n_fac += 1
                sc_total += n_latent_par[x]
                tb_total += _cpt_size(x, lat_at, lat, card)
                continue
            variables[n_var] = x
            n_var += 1
            n_fac += 1
            if x < n_causes and chained[x]:
                k = n_latent_par[x]
                n_fac += k - 1
                n_chain_vars += k - 1
                sc_total += 3 * k - 1
                for r_at in range(lat_at[x], lat_at[x + 1]):
                    tb_total += 4 * card[lat[r_at]]
            elif x < n_causes:
                sc_total += 1 + n_latent_par[x]
                tb_total += _cpt_size(x, lat_at, lat, card)
            else:
                sc_total += 1
                tb_total += card[x - n_causes]
    n_base = n_var
    n_var += n_chain_vars
    for j in range(positives.shape[0]):
        if pos_root[j] != root:
            continue
        k = pos_par[j]
        if k <= CHAIN_MIN_PARENTS:
            n_fac += 1
            sc_total += k
            tb_total += 1 << k
        else:
            n_links = chain_links(k)
            n_fac += n_links
            sc_total += k + 2 * n_links - 2
            tb_total += n_links << (CHAIN_GROUP + 2)  # at most
            n_var += n_links - 1
    cap = n_fac + n_var
    store = (
        take_ints(ws, cap),
        take_ints(ws, cap),
        take_ints(ws, cap),
        take_ints(ws, cap),
        take_ints(ws, sc_total + n_var * n_var),
        take_floats(ws, tb_total),
        full_ints(ws, 3, 0),
    )
    return n_base, n_leaf, store


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _latent_parents(c, lat_at, lat, n_causes, out):
    """Write cause ``c``'s latent parents (variable ids) into ``out``."""
    j = 0
    for k in range(lat_at[c], lat_at[c + 1]):
        out[j] = n_causes + lat[k]
        j += 1


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _add_cause_factors(n_base, variables, case, card_all, next_var, store, m, ws):
    """Add each listed cause's CPT (x negative evidence) and each latent root's prior.

    Chained CPTs append their chain variables to ``variables``; returns the number of
    variables listed and the next free variable id.
    """
    n_latent_par, lat_at, lat, chained = case.n_latent_par, case.lat_at, case.lat, case.chained
    log_absent, log_surv, log_u = case.log_absent, case.log_surv, case.log_u
    card, root_prior, slot_of, slot_inh = m[0], m[1], m[2], m[3]
    slots = (slot_of, m[22], m[23], m[24], m[25], m[21])
    n_causes = m[6].shape[0]
    n_var = n_base
    for i in range(n_base):
        x = variables[i]
        if x >= n_causes:  # prior of a latent root
            r = x - n_causes
            scope, tab = new_factor(store, 1, card[r])
            scope[0] = x
            tab[:] = root_prior[r, : card[r]]
            continue
        if chained[x]:
            parents = take_ints(ws, n_latent_par[x])
            _latent_parents(x, lat_at, lat, n_causes, parents)
            cause_chain(
                x,
                parents,
                card_all,
                n_causes,
                log_absent[x],
                log_surv[x],
                slot_of,
                slot_inh,
                log_u[x],
                next_var,
                store,
            )
            for j in range(n_latent_par[x] - 1):
                variables[n_var] = next_var + j
                n_var += 1
            next_var += n_latent_par[x] - 1
            continue
        scope, tab = new_factor(store, 1 + n_latent_par[x], _cpt_size(x, lat_at, lat, card))
        scope[0] = x
        parents = scope[1:]
        _latent_parents(x, lat_at, lat, n_causes, parents)
        la, ls, lu = log_absent[x], log_surv[x], log_u[x]
        cause_table(x, parents, card_all, n_causes, la, ls, slots, lu, tab)
    return n_var, next_var


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _add_leaf_factors(n_leaf, leaves, case, card_all, store, m, leaf_factor, leaf_ratio_at):
    """Sum each leaf cause out of its CPT (x negative evidence): a factor over its latent parents.

    A leaf cause has no positive finding, so given its latent parents it is independent
    of the rest of the case: it need not be a variable of the elimination. Its factor,
    ``P(c absent | roots) + P(c present | roots) u_c``, is multiplied into an earlier one
    over the same roots (a latent root's prior, another leaf's factor) when there is
    one. Right after its table, the store keeps ``P(c present | roots, its evidence)``
    for :func:`_leaf_posteriors`; ``leaf_factor`` and ``leaf_ratio_at`` say where.
    """
    n_latent_par, lat_at, lat = case.n_latent_par, case.lat_at, case.lat
    log_absent, log_surv, log_u = case.log_absent, case.log_surv, case.log_u
    card = m[0]
    slots = (m[2], m[22], m[23], m[24], m[25], m[21])
    n_causes = m[6].shape[0]
    fs_at, fs_len, ft_at, ft_len, sc, tb, cur = store
    for j in range(n_leaf):
        x = leaves[j]
        size = _cpt_size(x, lat_at, lat, card)
        half = size // 2
        scope, tab = new_factor(store, n_latent_par[x], size)
        _latent_parents(x, lat_at, lat, n_causes, scope)
        la, ls, lu = log_absent[x], log_surv[x], log_u[x]
        cause_table(x, scope, card_all, n_causes, la, ls, slots, lu, tab)
        for k in range(half):  # (absent, present) -> (their sum, P(present | roots, evidence))
            both = tab[k] + tab[half + k]
            tab[half + k] = tab[half + k] / both if both > 0.0 else 0.0
            tab[k] = both
        t = cur[0] - 1
        ft_len[t] = half
        leaf_factor[j] = t
        leaf_ratio_at[j] = ft_at[t] + half
        for u in range(t):  # an earlier factor over the same roots takes this one in
            same = fs_len[u] == fs_len[t]
            for a in range(fs_len[t] if same else 0):
                same = same and sc[fs_at[u] + a] == sc[fs_at[t] + a]
            if same:
                for k in range(half):
                    tb[ft_at[u] + k] *= tab[k]
                cur[0] -= 1  # the table's room stays taken: it holds the ratios
                cur[1] -= fs_len[t]
                leaf_factor[j] = u
                break


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _add_finding_factors(root, case, n_var, variables, next_var, store, m, ws):
    """Add the component's positive findings, chained past ``CHAIN_MIN_PARENTS`` parents.

    Returns the factor carrying each finding's leak (-1: another component), the number
    of variables listed and the next free variable id.
    """
    positives, pos_par, pos_root = case.positives, case.pos_par, case.pos_root
    private = case.private
    log_absent, log_surv, log_u = case.log_absent, case.log_surv, case.log_u
    finding_log_leak, w, par_at, par = m[7], m[8], m[14], m[15]
    n_pos = positives.shape[0]
    leak_factor = full_ints(ws, n_pos, -1)
    for j in range(n_pos):
        if pos_root[j] != root:
            continue
        f = positives[j]
        k = pos_par[j]
        parents = par[par_at[f] : par_at[f + 1]]
        log_q, mult = fold_private(
            f, -1, parents, w, private, log_absent, log_surv, log_u, finding_log_leak[f]
        )
        leak_factor[j] = store[6][0]
        if k <= CHAIN_MIN_PARENTS:
            scope, tab = new_factor(store, k, 1 << k)
        else:
            scope = take_ints(ws, k)
        i = 0
        for c in parents:
            if not private[c]:
                scope[i] = c
                i += 1
        if k <= CHAIN_MIN_PARENTS:
            finding_table(w[:, f], scope, log_q, mult, tab, ws)
            continue
        chain_factors(w[:, f], scope, next_var, log_q, mult, store, ws)
        n_new = chain_links(k) - 1  # its chain variables
        for i in range(n_new):
            variables[n_var] = next_var + i
            n_var += 1
        next_var += n_new
    return leak_factor, n_var, next_var


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _wanted(case, leak_factor, n_leaf, leaf_factor, store, n_all, m, ws):
    """Mark the variables whose cliques the engine reads.

    Those are every cause, the scope of each leaf cause's factor (see
    :func:`_leaf_posteriors`) and of each positive finding's factor that has a private
    cause (see :func:`_private_posteriors`).
    """
    par_at, par = m[14], m[15]
    n_causes = m[8].shape[0]
    fs_at, fs_len, sc = store[0], store[1], store[4]
    wanted = full_flags(ws, n_all, False)
    wanted[:n_causes] = True
    for j in range(n_leaf):
        t = leaf_factor[j]
        for a in range(fs_at[t], fs_at[t] + fs_len[t]):
            wanted[sc[a]] = True
    for j in range(case.positives.shape[0]):
        t = leak_factor[j]
        if t < 0:
            continue
        f = case.positives[j]
        for c_at in range(par_at[f], par_at[f + 1]):
            c = par[c_at]
            if case.private[c]:
                for a in range(fs_at[t], fs_at[t] + fs_len[t]):
                    wanted[sc[a]] = True
                break
    return wanted


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _factor_marginal(calibrated, store, t, card_all, ws):
    """Return the posterior joint of factor ``t``'s scope, from the clique that took it in.

    Unnormalised: it sums to ``total[consumer[t]]``. ``calibrated`` is what
    :func:`~diffdx._elimination.calibrate` returned.
    """
    fs_at, fs_len, ft_len, sc = store[0], store[1], store[3], store[4]
    cs_at, cs_len, bel, cb_at = calibrated[1:5]
    consumer, scratch, stride_of = calibrated[6:]
    k = consumer[t]
    marg = full_floats(ws, ft_len[t], 0.0)
    project(
        bel[cb_at[k] : cb_at[k + 1]],
        sc[cs_at[k] : cs_at[k] + cs_len[k]],
        card_all,
        sc[fs_at[t] : fs_at[t] + fs_len[t]],
        marg,
        scratch,
        stride_of,
    )
    return marg


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _leaf_posteriors(
    n_leaf, leaves, leaf_factor, leaf_ratio_at, store, calibrated, card_all, out, ws
):
    """Posteriors of the leaf causes: E[P(c present | roots, its evidence)] over the roots.

    The roots' posterior joint comes from the calibrated clique that took in the leaf's
    factor, once for all the leaves that share it. ``calibrated`` is what
    :func:`~diffdx._elimination.calibrate` returned.
    """
    tb, total, consumer = store[5], calibrated[5], calibrated[6]
    for j in range(n_leaf):
        t = leaf_factor[j]
        seen = False
        for i in range(j):
            seen = seen or leaf_factor[i] == t
        if seen:
            continue
        marg = _factor_marginal(calibrated, store, t, card_all, ws)
        inv = 1.0 / total[consumer[t]]
        for i in range(j, n_leaf):
            if leaf_factor[i] != t:
                continue
            acc = 0.0
            for s in range(marg.shape[0]):
                acc += marg[s] * tb[leaf_ratio_at[i] + s]
            out[leaves[i]] = acc * inv


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", inline="always")
def _private_posteriors(case, leak_factor, store, calibrated, card_all, m, out, ws):
    """Posteriors of the private causes: P(p, e) / P(e) = E_belief[phi_f(p present) / phi_f].

    ``calibrated`` is what :func:`~diffdx._elimination.calibrate` returned.
    """
    positives, pos_par, private = case.positives, case.pos_par, case.private
    log_absent, log_surv, log_u = case.log_absent, case.log_surv, case.log_u
    finding_log_leak, w, par_at, par = m[7], m[8], m[14], m[15]
    fs_at, fs_len, ft_at, ft_len, sc, tb = store[:6]
    total, consumer = calibrated[5], calibrated[6]
    for j in range(positives.shape[0]):
        t = leak_factor[j]
        if t < 0:
            continue
        f = positives[j]
        parents = par[par_at[f] : par_at[f + 1]]
        has_private = False
        for c_at in range(par_at[f], par_at[f + 1]):
            has_private = has_private or private[par[c_at]]
        if not has_private:
            continue
        scope = sc[fs_at[t] : fs_at[t] + fs_len[t]]
        base = tb[ft_at[t] : ft_at[t] + ft_len[t]]
        # The posterior joint of the factor's scope, once for all its private causes
        # (none for a factor over no variable: no clique took it in).
        k_clique = consumer[t]
        if k_clique >= 0:
            marg = _factor_marginal(calibrated, store, t, card_all, ws)
        else:
            marg = full_floats(ws, 1, 1.0)
        ratio = take_floats(ws, base.shape[0])
        for p in parents:
            if not private[p]:
                continue
            log_q, mult = fold_private(
                f, p, parents, w, private, log_absent, log_surv, log_u, finding_log_leak[f]
            )
            if pos_par[j] > CHAIN_MIN_PARENTS:  # the head of a chain
                chain_head(w[:, f], scope[: scope.shape[0] - 1], log_q, mult, ratio, ws)
            else:
                finding_table(w[:, f], scope, log_q, mult, ratio, ws)
            for k in range(ratio.shape[0]):
                ratio[k] = ratio[k] / base[k] if base[k] > 0.0 else 0.0
            if k_clique < 0:  # no shared parent: the factor is a scalar
                out[p] = ratio[0]
            else:
                out[p] = np.dot(marg, ratio) / total[k_clique]


@numba.njit(cache=NUMBA_CACHE, error_model="numpy")
def _infer_case(root_ev, finding_ev, m, out, max_bytes, ws):
    """Posteriors of every cause for one case into ``out``; return log P(evidence).

    ``m`` is :meth:`Engine.arrays`. The steps are those of the module docstring. Returns
    NaN when a component's elimination would need a table over ``MAX_TABLE_SIZE``
    entries or more than ``max_bytes`` of tables, and -inf when the evidence has
    probability zero. Every array is taken from workspace ``ws`` (``_workspace.py``);
    the caller releases them.
    """
    card, cause_root = m[0], m[6]
    n_causes, n_roots = cause_root.shape
    n_vars = n_causes + n_roots
    # 1-2. Observed roots and negative findings become per-cause numbers.
    log_pe, log_absent, log_surv, latent, log_u, positives = _observe(root_ev, finding_ev, m, ws)
    # 3. Barren causes absorb their latent roots; private causes are found.
    n_latent_par, lat_at, lat, private, leaf = _roles(
        positives, latent, log_absent, log_surv, log_u, m, ws
    )
    parent, in_ve = _components(positives, lat_at, lat, m, ws)
    # 4. Closed form for causes outside every component.
    for c in range(n_causes):
        if not in_ve[c]:
            p0, a1 = unary(log_absent[c], log_surv[c], log_u[c])
            z = p0 + a1
            out[c] = a1 / z
            log_pe += math.log(z)
    # 5. Each component: build its factors, calibrate, read the posteriors. Chains add
    #    binary variables after the causes and roots.
    pos_par, pos_root, chained, n_chain = _chain_plan(
        positives, n_latent_par, lat_at, lat, private, parent, m, ws
    )
    owned_case = CaseState(
        log_absent,
        log_surv,
        log_u,
        latent,
        n_latent_par,
        lat_at,
        lat,
        private,
        leaf,
        chained,
        positives,
        pos_par,
        pos_root,
    )
    case = borrowed(owned_case)  # no reference counting in the loops below
    n_all = n_vars + n_chain
    card_all = full_ints(ws, n_all, 2)
    for r in range(n_roots):
        card_all[n_causes + r] = card[r]
    next_var = n_vars
    done = full_flags(ws, n_vars, False)
    variables = take_ints(ws, n_all)
    leaves = take_ints(ws, n_causes)
    leaf_factor = take_ints(ws, n_causes)
    leaf_ratio_at = take_ints(ws, n_causes)
    for seed in range(n_vars):
        if not in_ve[seed] or done[seed]:
            continue
        root = _find(parent, seed)
        component_start = mark(ws)
        n_base, n_leaf, owned_store = _collect(
            root, parent, in_ve, done, case, variables, leaves, m, ws
        )
        store = borrowed(owned_store)
        n_var, next_var = _add_cause_factors(
            n_base, variables, case, card_all, next_var, store, m, ws
        )
        _add_leaf_factors(n_leaf, leaves, case, card_all, store, m, leaf_factor, leaf_ratio_at)
        leak_factor, n_var, next_var = _add_finding_factors(
            root, case, n_var, variables, next_var, store, m, ws
        )
        fs_at, fs_len, ft_at, ft_len, sc, tb, cur = store
        n_fac = cur[0]
        order = elimination_order(variables[:n_var], n_fac, fs_at, fs_len, sc, card_all, n_all, ws)
        wanted = _wanted(case, leak_factor, n_leaf, leaf_factor, store, n_all, m, ws)
        calibrated = calibrate(
            n_fac,
            fs_at,
            fs_len,
            ft_at,
            ft_len,
            sc,
            cur[1],
            tb,
            order,
            card_all,
            n_all,
            max_bytes,
            wanted,
            ws,
        )
        log_z, bel, cb_at, total = calibrated[0], calibrated[3], calibrated[4], calibrated[5]
        if not log_z > -np.inf:
            return log_z
        log_pe += log_z
        for i in range(n_var):
            if order[i] < n_causes:
                out[order[i]] = marginal_of_first(bel, cb_at, 2, i, total)
        _leaf_posteriors(
            n_leaf, leaves, leaf_factor, leaf_ratio_at, store, calibrated, card_all, out, ws
        )
        _private_posteriors(case, leak_factor, store, calibrated, card_all, m, out, ws)
        keep_alive(owned_store)
        release(ws, component_start)
    keep_alive(owned_case)
    return log_pe


@numba.njit(cache=NUMBA_CACHE, error_model="numpy")
def _batch_serial(roots, findings, model, post, log_pe, rows, max_bytes, stack):
    m = borrowed(model)  # the caller holds the model's arrays
    r, f, p = borrowed((roots, findings, post))  # and the batch's, and the workspaces
    ws = workspace(stack, 0)
    start = mark(ws)
    for i in rows:
        log_pe[i] = _infer_case(r[i], f[i], m, p[i], max_bytes, ws)
        release(ws, start)


@numba.njit(cache=NUMBA_CACHE, error_model="numpy", parallel=True)
def _batch_parallel(roots, findings, model, post, log_pe, max_bytes, stack):
    # Every thread's slices of the batch arrays would count references on the same owner:
    # both cores then fight over one cache line, and two threads scored 1.5x one thread's
    # cases per second instead of 2x. Borrowed slices count nothing. The batch is cut
    # into one block of cases per workspace (numba gives each thread the same number
    # of cases anyway), so no workspace is used by two threads.
    m = borrowed(model)
    r, f, p = borrowed((roots, findings, post))
    n = roots.shape[0]
    n_blocks = stack[0].shape[0]
    for block in numba.prange(n_blocks):
        ws = workspace(stack, block)
        start = mark(ws)
        for i in range(block * n // n_blocks, (block + 1) * n // n_blocks):
            log_pe[i] = _infer_case(r[i], f[i], m, p[i], max_bytes, ws)
            release(ws, start)


def max_case_bytes() -> int:
    """Return the memory budget of one case: ``DIFFDX_MAX_CASE_MB`` MiB, or the default.

    Returns
    -------
    int
        Bytes.

    Raises
    ------
    InvalidParameterError
        If ``DIFFDX_MAX_CASE_MB`` is set to anything but a positive whole number.

    Examples
    --------
    >>> max_case_bytes() == MAX_CASE_BYTES  # DIFFDX_MAX_CASE_MB unset
    True
    """
    value = os.environ.get("DIFFDX_MAX_CASE_MB")
    if value is None:
        return MAX_CASE_BYTES
    if not value.strip().isdigit() or int(value) == 0:
        raise InvalidParameterError(
            f"DIFFDX_MAX_CASE_MB must be a positive whole number of MiB; got {value!r}."
        )
    return int(value) << 20


def _adjacency_lists(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row ``i``'s set columns, in increasing order, as ``cols[at[i] : at[i + 1]]``."""
    at = np.zeros(mask.shape[0] + 1, dtype=np.int64)
    np.cumsum(mask.sum(axis=1), out=at[1:])
    return at, np.nonzero(mask)[1].astype(np.int64)


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
    barren_log_absent: np.ndarray
    barren_log_survival: np.ndarray
    finding_parent_at: np.ndarray
    finding_parent: np.ndarray
    cause_root_at: np.ndarray
    cause_roots: np.ndarray
    root_cause_at: np.ndarray
    root_causes: np.ndarray
    root_log_prior: np.ndarray
    protective: np.ndarray
    slot_inhibitor: np.ndarray
    slot_not_inhibitor: np.ndarray
    slot_survival: np.ndarray
    slot_not_survival: np.ndarray

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
            self.barren_log_absent,
            self.barren_log_survival,
            self.finding_parent_at,
            self.finding_parent,
            self.cause_root_at,
            self.cause_roots,
            self.root_cause_at,
            self.root_causes,
            self.root_log_prior,
            self.protective,
            self.slot_inhibitor,
            self.slot_not_inhibitor,
            self.slot_survival,
            self.slot_not_survival,
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
        # Whether a root is protective for a cause (in one of its states): while the root
        # is unknown, the cause's survival varies with it (cause_table) and its CPT is
        # never chained (_chain_plan).
        protective = np.zeros((len(params.causes), n_roots), dtype=np.bool_)
        for s, r in enumerate(params.slot_root):
            protective[:, r] |= params.slot_log_survival[s] != 0
        with np.errstate(divide="ignore"):  # a state of prior zero: log P = -inf
            root_log_prior = np.log(root_prior)
        slot_log_inhibitor = np.ascontiguousarray(params.slot_log_inhibitor)
        slot_log_survival = np.ascontiguousarray(params.slot_log_survival)
        slot_q, slot_not_q, slot_s, slot_not_s = slot_terms(slot_log_inhibitor, slot_log_survival)
        barren_log_absent, barren_log_survival = barren_folds(
            card, root_prior, slot_of, slot_log_inhibitor, slot_log_survival, cause_root
        )
        finding_parent_at, finding_parent = _adjacency_lists(params.cause_log_inhibitor.T != 0)
        cause_root_at, cause_roots = _adjacency_lists(cause_root)
        root_cause_at, root_causes = _adjacency_lists(cause_root.T)
        return cls(
            names=(params.causes, params.findings),
            card=card,
            root_prior=root_prior,
            slot_of=slot_of,
            slot_log_inhibitor=slot_log_inhibitor,
            slot_log_survival=slot_log_survival,
            cause_log_leak=np.ascontiguousarray(params.cause_log_leak),
            cause_root=cause_root,
            finding_log_leak=np.ascontiguousarray(params.finding_log_leak),
            cause_log_inhibitor=np.ascontiguousarray(params.cause_log_inhibitor),
            fold_child=fold_child,
            fold_log_absent=fold_log_absent,
            fold_log_survival=fold_log_survival,
            barren_log_absent=barren_log_absent,
            barren_log_survival=barren_log_survival,
            finding_parent_at=finding_parent_at,
            finding_parent=finding_parent,
            cause_root_at=cause_root_at,
            cause_roots=cause_roots,
            root_cause_at=root_cause_at,
            root_causes=root_causes,
            root_log_prior=root_log_prior,
            protective=protective,
            slot_inhibitor=slot_q,
            slot_not_inhibitor=slot_not_q,
            slot_survival=slot_s,
            slot_not_survival=slot_not_s,
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
            If a case needs an elimination table over ``MAX_TABLE_SIZE`` entries, or
            more memory than :func:`max_case_bytes`.
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

        Notes
        -----
        A batch runs in parallel threads, each case within
        :data:`PARALLEL_CASE_BYTES` of tables. The rare case that needs more gives up
        before any arithmetic and runs alone afterwards, within :func:`max_case_bytes`,
        so peak memory is bounded whatever the cases.
        """
        roots = np.ascontiguousarray(evidence.roots, dtype=np.int8)
        findings = np.ascontiguousarray(evidence.findings, dtype=np.int8)
        n = roots.shape[0]
        post = np.zeros((n, self.cause_log_leak.shape[0]))
        log_pe = np.zeros(n)
        limit = max_case_bytes()
        alone = np.arange(n)
        m = self.arrays()
        n_threads = numba.get_num_threads()
        with _WORKSPACES.lend(n_threads) as stack:
            if n >= PARALLEL_MIN_BATCH:
                budget = min(PARALLEL_CASE_BYTES, limit)
                blocks = tuple(buf[:n_threads] for buf in stack)
                _batch_parallel(roots, findings, m, post, log_pe, budget, blocks)
                alone = np.flatnonzero(np.isnan(log_pe)) if budget < limit else alone[:0]
            if alone.size:
                _batch_serial(roots, findings, m, post, log_pe, alone, limit, stack)
        problems: list[Exception | None] = [None] * n
        for i in np.flatnonzero(~np.isfinite(log_pe)):
            if np.isnan(log_pe[i]):
                problems[i] = InferenceLimitError(
                    f"Case {i} needs more than {limit >> 20:,} MiB of elimination tables "
                    f"(or one table over {MAX_TABLE_SIZE:,} entries); observe more risk "
                    "factors or findings, or allow more memory per case with the "
                    "environment variable DIFFDX_MAX_CASE_MB."
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
