"""Hypothesis strategies for random evidence on a knowledge base."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from diffdx.evidence import Evidence


@st.composite
def evidence_rows(draw, kb, *, max_rows: int = 1):
    """Random Evidence: any subset observed, sometimes many positive findings."""
    n = draw(st.integers(1, max_rows))
    cards = [2] * len(kb.risk_factors) + [len(kb.age_bands), len(kb.sex_states)]
    roots = np.empty((n, len(cards)), dtype=np.int8)
    findings = np.empty((n, len(kb.findings)), dtype=np.int8)
    for i in range(n):
        p_obs_root = draw(st.sampled_from([0.0, 0.3, 0.7, 1.0]))
        p_obs_f = draw(st.sampled_from([0.0, 0.2, 0.5, 1.0]))
        p_pos = draw(st.sampled_from([0.05, 0.2, 0.5, 0.9]))
        seed = draw(st.integers(0, 2**32 - 1))
        rng = np.random.default_rng(seed)
        for r, card in enumerate(cards):
            roots[i, r] = rng.integers(card) if rng.random() < p_obs_root else -1
        observed = rng.random(len(kb.findings)) < p_obs_f
        positive = rng.random(len(kb.findings)) < p_pos
        findings[i] = np.where(observed, positive.astype(np.int8), -1)
    return Evidence(roots=roots, findings=findings)


def oracle_evidence(kb, ev: Evidence, row: int = 0) -> dict:
    """The same evidence in tests.oracle's format."""
    n_rf = len(kb.risk_factors)
    out: dict = {}
    for r, s in enumerate(ev.roots[row]):
        if s < 0:
            continue
        if r < n_rf:
            out[kb.risk_factor_ids[r]] = int(s)
        elif r == n_rf:
            out["age"] = kb.age_band_ids[s]
        else:
            out["sex"] = kb.sex_ids[s]
    for f, s in enumerate(ev.findings[row]):
        if s >= 0:
            out[kb.finding_ids[f]] = int(s)
    return out
