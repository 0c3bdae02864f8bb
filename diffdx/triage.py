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

import numpy as np

from diffdx.kb import URGENCY_LEVELS, KnowledgeBase

__all__ = ["TRIAGE_LEVELS", "assess"]

#: Triage levels, most urgent first (index 0 is the most urgent).
TRIAGE_LEVELS = URGENCY_LEVELS
_EMERGENCY = 0
_ROUTINE = URGENCY_LEVELS.index("routine")


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
    present = findings == 1
    red_cols = np.array([f.red_flag for f in kb.findings], dtype=bool)
    red_any = present[:, red_cols].any(axis=1)
    combos = [
        (combo, np.array([kb.finding_ids.index(f) for f in combo.all_of]))
        for combo in kb.red_flag_combinations
    ]
    combo_hit = np.zeros((n, len(combos)), dtype=bool)
    for k, (_, cols) in enumerate(combos):
        combo_hit[:, k] = present[:, cols].all(axis=1)

    thresholds = np.array([c.action_threshold for c in kb.causes])
    urgency = np.array([URGENCY_LEVELS.index(c.urgency) for c in kb.causes], dtype=np.int8)
    passes = posteriors >= thresholds
    cause_level = np.where(passes, urgency, len(URGENCY_LEVELS)).min(axis=1, initial=99)
    levels = np.where(cause_level < len(URGENCY_LEVELS), cause_level, _ROUTINE).astype(np.int8)
    levels[red_any | combo_hit.any(axis=1)] = _EMERGENCY

    # Reasons, built from the non-zero entries only (a Python loop per row would
    # dominate batch scoring).
    why: list[list[str]] = [[] for _ in range(n)]
    red_text = [f"red flag: {f.label} (seek immediate care)" for f in kb.findings]
    for i, f in zip(*np.nonzero(present & red_cols), strict=True):
        why[i].append(red_text[f])
    for k, (combo, _) in enumerate(combos):
        text = (
            f"red flag: {' + '.join(kb.by_id[f].label for f in combo.all_of)} (seek immediate care)"
        )
        for i in np.flatnonzero(combo_hit[:, k]):
            why[i].append(text)
    shown = passes & (urgency[None, :] <= np.maximum(levels, 1)[:, None])
    rows, cols = np.nonzero(shown)
    values = posteriors[rows, cols]
    order = np.lexsort((cols, -values, rows))  # by row, then most probable first
    head = [f"{c.label}: " for c in kb.causes]
    tail = [
        f" reaches its action threshold {c.action_threshold:.1%} ({c.urgency})" for c in kb.causes
    ]
    for i, c, p in zip(
        rows[order].tolist(), cols[order].tolist(), values[order].tolist(), strict=True
    ):
        why[i].append(f"{head[c]}{p:.1%}{tail[c]}")
    routine = "no cause reaches its action threshold; a routine assessment is advised"
    reasons = [tuple(w) if w else (routine,) for w in why]
    return levels, reasons
