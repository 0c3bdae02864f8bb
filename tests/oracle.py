"""Brute-force enumeration of a small knowledge base's joint distribution.

An independent oracle: it reads the probabilities straight from the KnowledgeBase (not
from diffdx.parameters) and sums the full joint, so it shares no code with the network
compiler or the engine. Exponential: small models only.
"""

from __future__ import annotations

import itertools
import math

from diffdx.kb import KnowledgeBase


def _cause_present(kb: KnowledgeBase, cause, roots: dict[str, object]) -> float:
    b = cause.baseline.p
    absent = 1.0 - b
    for link in cause.risk_links:
        active = roots.get(link.parent) == 1 or link.parent in (roots["age"], roots["sex"])
        if active:
            absent *= (1.0 - link.p) / (1.0 - b)
    present = 1.0 - absent
    for link in cause.protective_links:
        if roots.get(link.parent) == 1:
            present *= 1.0 - link.p
    return present


def _finding_present(kb: KnowledgeBase, finding, causes: dict[str, int]) -> float:
    leak = finding.leak.p
    absent = 1.0 - leak
    for cause in kb.causes:
        for link in cause.finding_links:
            if link.child == finding.id and causes[cause.id]:
                absent *= (1.0 - link.p) / (1.0 - leak)
    return 1.0 - absent


def joint_posteriors(kb: KnowledgeBase, evidence: dict[str, object]) -> dict[str, float]:
    """P(cause present | evidence) for every cause, by summing the whole joint."""
    return enumerate_joint(kb, evidence)[0]


def enumerate_joint(kb: KnowledgeBase, evidence: dict[str, object]):
    """Return (posteriors by cause, P(evidence)) by summing the whole joint.

    ``evidence`` maps risk factors and findings to 0/1, and may hold ``age`` (an age-band
    id) and ``sex`` (a sex-state id).
    """
    rfs = kb.risk_factor_ids
    numer = dict.fromkeys(kb.cause_ids, 0.0)
    total = 0.0
    ages = [b for b in kb.age_bands if evidence.get("age", b.id) == b.id]
    sexes = [s for s in kb.sex_states if evidence.get("sex", s.id) == s.id]
    for age, sex in itertools.product(ages, sexes):
        for rf_values in itertools.product((0, 1), repeat=len(rfs)):
            roots: dict[str, object] = dict(zip(rfs, rf_values, strict=True))
            if any(evidence.get(r, v) != v for r, v in roots.items()):
                continue
            p_roots = age.prior.p * sex.prior.p
            for r, v in zip(kb.risk_factors, rf_values, strict=True):
                p_roots *= r.prevalence.p if v else 1.0 - r.prevalence.p
            roots["age"], roots["sex"] = age.id, sex.id
            p_cause = [_cause_present(kb, c, roots) for c in kb.causes]
            for c_values in itertools.product((0, 1), repeat=len(kb.causes)):
                causes = dict(zip(kb.cause_ids, c_values, strict=True))
                p = p_roots * math.prod(
                    pc if v else 1.0 - pc for pc, v in zip(p_cause, c_values, strict=True)
                )
                for f in kb.findings:
                    if f.id in evidence:
                        pf = _finding_present(kb, f, causes)
                        p *= pf if evidence[f.id] else 1.0 - pf
                total += p
                for c, v in causes.items():
                    if v:
                        numer[c] += p
    return {c: numer[c] / total for c in kb.cause_ids}, total
