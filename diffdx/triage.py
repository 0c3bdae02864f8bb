"""Triage: how urgently a case needs care, with the reasons, from posteriors and findings.

Rules, in order of strength (levels: ``emergency`` > ``urgent`` > ``routine`` >
``self_care``):

1. A red-flag finding present, or every finding of a red-flag combination present, makes
   the case an ``emergency`` whatever the posteriors (the seed article's "seek immediate
   medical care" list).
2. A cause whose posterior reaches its ``action_threshold`` (set in the model file, with
   its rationale) raises the level to that cause's urgency.
3. When no cause reaches its threshold, the level is ``routine``: nothing is likely
   enough to act on, and nothing is ruled out either.

Levels are computed for a whole batch at once; the reasons are short sentences.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from diffdx.kb import URGENCY_LEVELS, KnowledgeBase

__all__ = ["TRIAGE_LEVELS", "assess"]

#: Triage levels, most urgent first (index 0 is the most urgent).
TRIAGE_LEVELS = URGENCY_LEVELS
_EMERGENCY = 0
_ROUTINE = URGENCY_LEVELS.index("routine")


@dataclass(frozen=True)
class _Rules:
    """What triage reads from a model: built once per knowledge base (see :func:`_rules`)."""

    red_cols: np.ndarray  # bool over findings: red flags
    red_text: tuple[str, ...]  # the reason each finding gives, if a red flag
    combos: tuple[tuple[np.ndarray, str], ...]  # each combination's columns and reason
    thresholds: np.ndarray  # each cause's action threshold
    urgency: np.ndarray  # each cause's urgency, as an index into URGENCY_LEVELS
    head: tuple[str, ...]  # each cause's reason, before and after its posterior
    tail: tuple[str, ...]

    @classmethod
    def from_kb(cls, kb: KnowledgeBase) -> _Rules:
        combos = tuple(
            (
                np.array([kb.finding_ids.index(f) for f in combo.all_of]),
                f"red flag: {' + '.join(kb.by_id[f].label for f in combo.all_of)} "
                "(seek immediate care)",
            )
            for combo in kb.red_flag_combinations
        )
        return cls(
            red_cols=np.array([f.red_flag for f in kb.findings], dtype=bool),
            red_text=tuple(f"red flag: {f.label} (seek immediate care)" for f in kb.findings),
            combos=combos,
            thresholds=np.array([c.action_threshold for c in kb.causes]),
            urgency=np.array([URGENCY_LEVELS.index(c.urgency) for c in kb.causes], np.int8),
            head=tuple(f"{c.label}: " for c in kb.causes),
            tail=tuple(
                f" reaches its action threshold {c.action_threshold:.1%} ({c.urgency})"
                for c in kb.causes
            ),
        )


_RULES: dict[int, tuple[weakref.ref, _Rules]] = {}


def _rules(kb: KnowledgeBase) -> _Rules:
    """Return the triage rules of ``kb``, cached while it lives.

    Keyed by identity: hashing a knowledge base walks all of it, which takes longer
    than triaging one case.
    """
    hit = _RULES.get(id(kb))
    if hit is None or hit[0]() is not kb:
        hit = (weakref.ref(kb), _Rules.from_kb(kb))
        _RULES[id(kb)] = hit
        weakref.finalize(kb, _RULES.pop, id(kb), None)
    return hit[1]


def assess(
    kb: KnowledgeBase, posteriors: np.ndarray, findings: np.ndarray
) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """Triage a batch of cases.

    Parameters
    ----------
    kb : KnowledgeBase
    posteriors : ndarray, shape (n, C)
        P(cause present | evidence) per case.
    findings : ndarray of int8, shape (n, F)
        Finding evidence (1 present, 0 absent, -1 unknown).

    Returns
    -------
    levels : ndarray of int8, shape (n,)
        Index into :data:`TRIAGE_LEVELS` (0 = emergency).
    reasons : list of tuple of str
        Why each case got its level, most important first.

    Examples
    --------
    >>> import numpy as np
    >>> from diffdx import load_kb
    >>> kb = load_kb("calf_pain")
    >>> post = np.zeros((1, len(kb.causes)))
    >>> found = np.full((1, len(kb.findings)), -1, dtype=np.int8)
    >>> found[0, kb.finding_ids.index("cold_pale_leg")] = 1
    >>> levels, reasons = assess(kb, post, found)
    >>> TRIAGE_LEVELS[levels[0]], reasons[0][0]
    ('emergency', 'red flag: Cold and pale leg, compared with the other leg (seek immediate care)')
    """
    n = posteriors.shape[0]
    rules = _rules(kb)
    present = findings == 1
    red_any = present[:, rules.red_cols].any(axis=1)
    combo_hit = np.zeros((n, len(rules.combos)), dtype=bool)
    for k, (cols, _) in enumerate(rules.combos):
        combo_hit[:, k] = present[:, cols].all(axis=1)

    passes = posteriors >= rules.thresholds
    cause_level = np.where(passes, rules.urgency, len(URGENCY_LEVELS)).min(axis=1, initial=99)
    levels = np.where(cause_level < len(URGENCY_LEVELS), cause_level, _ROUTINE).astype(np.int8)
    levels[red_any | combo_hit.any(axis=1)] = _EMERGENCY

    # Reasons, built from the non-zero entries only (a Python loop per row would
    # dominate batch scoring).
    why: list[list[str]] = [[] for _ in range(n)]
    for i, f in zip(*np.nonzero(present & rules.red_cols), strict=True):
        why[i].append(rules.red_text[f])
    for k, (_, text) in enumerate(rules.combos):
        for i in np.flatnonzero(combo_hit[:, k]):
            why[i].append(text)
    shown = passes & (rules.urgency[None, :] <= np.maximum(levels, 1)[:, None])
    rows, cols = np.nonzero(shown)
    values = posteriors[rows, cols]
    order = np.lexsort((cols, -values, rows))  # by row, then most probable first
    head, tail = rules.head, rules.tail
    for i, c, p in zip(
        rows[order].tolist(), cols[order].tolist(), values[order].tolist(), strict=True
    ):
        why[i].append(f"{head[c]}{p:.1%}{tail[c]}")
    routine = "no cause reaches its action threshold; a routine assessment is advised"
    reasons = [tuple(w) if w else (routine,) for w in why]
    return levels, reasons
