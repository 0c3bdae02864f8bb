"""The model's numbers as noisy-OR log-parameters in numpy arrays.

This is the one place where the probabilities of a :class:`~diffdx.kb.KnowledgeBase` are
turned into the quantities inference uses; both the pgmpy network
(:mod:`diffdx.network`) and the fast engine are built from :class:`NoisyOrParameters`.

Notation (see ``docs/model-format.md``). Root nodes are the risk factors and the two
demographic nodes ``age_band`` and ``sex``. Each root *state* that can act on a cause is a
"slot" (a risk factor's ``present`` state; each age band; each sex). Then

* ``P(cause absent | roots) = (1 - b) * prod_slots q[slot]`` over the active slots, with
  ``log q = log(1 - p) - log(1 - b)`` for a risk link of probability ``p``;
* ``P(cause present | roots)`` is ``1 -`` that, times ``prod_slots (1 - s[slot])`` for the
  active protective slots;
* ``P(finding absent | causes) = (1 - leak) * prod_causes r[cause]`` over the present
  causes, with ``log r = log(1 - p) - log(1 - leak)``.

Everything is kept as logs (``log1p``) so that products of many small inhibitions and
``1 - product`` (computed with ``expm1``) stay accurate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from diffdx.kb import KnowledgeBase

__all__ = ["AGE_NODE", "BINARY_STATES", "SEX_NODE", "NoisyOrParameters", "noisy_or_parameters"]

#: State names of every binary node, in this order.
BINARY_STATES: tuple[str, str] = ("absent", "present")
#: Names of the demographic nodes.
AGE_NODE = "age_band"
SEX_NODE = "sex"


@dataclass(frozen=True, eq=False)
class NoisyOrParameters:
    """Log-space noisy-OR parameters of a knowledge base (read-only arrays).

    Attributes
    ----------
    roots : tuple of str
        Root node names: the risk factors in file order, then ``age_band`` and ``sex``.
    root_states : tuple of tuple of str
        The states of each root.
    root_prior : tuple of ndarray
        P(state) for each root.
    slot_root, slot_state : ndarray of int, shape (S,)
        For each slot, its root (index into ``roots``) and state (index into its states).
    causes, findings : tuple of str
        Cause and finding ids in file order.
    cause_log_leak : ndarray, shape (C,)
        ``log(1 - baseline)`` per cause.
    slot_log_inhibitor : ndarray, shape (S, C)
        ``log q``: 0 where the slot does not act on the cause.
    slot_log_survival : ndarray, shape (S, C)
        ``log(1 - s)`` of protective slots: 0 where the slot does not protect.
    finding_log_leak : ndarray, shape (F,)
        ``log(1 - leak)`` per finding.
    cause_log_inhibitor : ndarray, shape (C, F)
        ``log r``: 0 where the cause does not cause the finding.
    """

    roots: tuple[str, ...]
    root_states: tuple[tuple[str, ...], ...]
    root_prior: tuple[np.ndarray, ...]
    slot_root: np.ndarray
    slot_state: np.ndarray
    causes: tuple[str, ...]
    findings: tuple[str, ...]
    cause_log_leak: np.ndarray
    slot_log_inhibitor: np.ndarray
    slot_log_survival: np.ndarray
    finding_log_leak: np.ndarray
    cause_log_inhibitor: np.ndarray

    def cause_parents(self, c: int) -> list[int]:
        """Return the roots acting on cause ``c`` (risk or protective), as sorted indices."""
        active = (self.slot_log_inhibitor[:, c] != 0) | (self.slot_log_survival[:, c] != 0)
        return sorted(set(self.slot_root[active].tolist()))

    def finding_parents(self, f: int) -> list[int]:
        """Return the causes of finding ``f``, as sorted indices."""
        return np.flatnonzero(self.cause_log_inhibitor[:, f] != 0).tolist()

    def root_slot_logs(self, c: int, r: int) -> tuple[np.ndarray, np.ndarray]:
        """Per-state ``log q`` and ``log(1 - s)`` that root ``r`` applies to cause ``c``."""
        n = len(self.root_states[r])
        log_q, log_s = np.zeros(n), np.zeros(n)
        mine = self.slot_root == r
        log_q[self.slot_state[mine]] = self.slot_log_inhibitor[mine, c]
        log_s[self.slot_state[mine]] = self.slot_log_survival[mine, c]
        return log_q, log_s


def noisy_or_parameters(kb: KnowledgeBase) -> NoisyOrParameters:
    """Convert a knowledge base's probabilities to log-space noisy-OR parameters.

    Parameters
    ----------
    kb : KnowledgeBase

    Returns
    -------
    NoisyOrParameters

    Examples
    --------
    >>> from diffdx import load_kb
    >>> params = noisy_or_parameters(load_kb("calf_pain"))
    >>> params.roots[-2:], params.slot_log_inhibitor.shape[1] == len(params.causes)
    (('age_band', 'sex'), True)
    """
    roots = (*kb.risk_factor_ids, AGE_NODE, SEX_NODE)
    root_states = (
        *([BINARY_STATES] * len(kb.risk_factors)),
        kb.age_band_ids,
        kb.sex_ids,
    )
    root_prior = (
        *(np.array([1.0 - r.prevalence.p, r.prevalence.p]) for r in kb.risk_factors),
        np.array([b.prior.p for b in kb.age_bands]),
        np.array([s.prior.p for s in kb.sex_states]),
    )
    # One slot per risk factor ("present"), then one per age band and per sex state.
    slot_root = [*range(len(kb.risk_factors))]
    slot_state = [1] * len(kb.risk_factors)
    for r, states in ((len(roots) - 2, kb.age_band_ids), (len(roots) - 1, kb.sex_ids)):
        slot_root += [r] * len(states)
        slot_state += list(range(len(states)))
    slot_of = {
        **{rf: i for i, rf in enumerate(kb.risk_factor_ids)},
        **{
            state: i
            for i, state in enumerate((*kb.age_band_ids, *kb.sex_ids), len(kb.risk_factors))
        },
    }
    n_slots, n_causes = len(slot_root), len(kb.causes)
    cause_index = {c: i for i, c in enumerate(kb.cause_ids)}
    finding_index = {f: i for i, f in enumerate(kb.finding_ids)}
    leak = np.array([f.leak.p for f in kb.findings])

    cause_log_leak = np.log1p(-np.array([c.baseline.p for c in kb.causes]))
    slot_log_inhibitor = np.zeros((n_slots, n_causes))
    slot_log_survival = np.zeros((n_slots, n_causes))
    cause_log_inhibitor = np.zeros((n_causes, len(kb.findings)))
    for c, cause in enumerate(kb.causes):
        for link in cause.risk_links:
            slot_log_inhibitor[slot_of[link.parent], c] = np.log1p(-link.p) - cause_log_leak[c]
        for link in cause.protective_links:
            slot_log_survival[slot_of[link.parent], c] = np.log1p(-link.p)
        for link in cause.finding_links:
            f = finding_index[link.child]
            cause_log_inhibitor[cause_index[cause.id], f] = np.log1p(-link.p) - np.log1p(-leak[f])

    arrays = [cause_log_leak, slot_log_inhibitor, slot_log_survival, cause_log_inhibitor]
    for a in [*arrays, *root_prior]:
        a.setflags(write=False)
    return NoisyOrParameters(
        roots=roots,
        root_states=root_states,
        root_prior=root_prior,
        slot_root=np.array(slot_root),
        slot_state=np.array(slot_state),
        causes=kb.cause_ids,
        findings=kb.finding_ids,
        cause_log_leak=cause_log_leak,
        slot_log_inhibitor=slot_log_inhibitor,
        slot_log_survival=slot_log_survival,
        finding_log_leak=np.log1p(-leak),
        cause_log_inhibitor=cause_log_inhibitor,
    )
