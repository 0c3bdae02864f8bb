"""Turn a case (dict, keyword arguments or a pandas Series) into evidence arrays.

A case names risk factors, findings, ``age`` (years) and ``sex``. Values are parsed the
same way everywhere (``rank_causes``, ``score_frame``, the CLI):

* present: ``True``, ``1``, ``"yes"``, ``"y"``, ``"present"``, ``"true"``, ``"1"``;
* absent: ``False``, ``0``, ``"no"``, ``"n"``, ``"absent"``, ``"false"``, ``"0"``;
* unknown: ``None``, ``NaN``, ``pd.NA``, ``""`` (and text that is only spaces), and the
  text spellings of a missing value that spreadsheets and R write: ``NA``, ``N/A``,
  ``NaN``, ``null``, ``None``.

Text is stripped and case-insensitive. Anything else is an error that names the variable
and the accepted values; an unknown name is an error that suggests the closest ids.

The result is an :class:`Evidence`: one ``int8`` row per case for the root nodes (state
index, ``-1`` unknown) and one for the findings (``1`` present, ``0`` absent, ``-1``
unknown) -- the arrays the engine works on.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from diffdx.exceptions import EvidenceError
from diffdx.kb import Finding, KnowledgeBase, RiskFactor
from diffdx.kb_io import did_you_mean

__all__ = ["Evidence", "parse_case", "parse_value"]

UNKNOWN = -1
_PRESENT = frozenset({"yes", "y", "present", "true", "1", "1.0", "positive", "pos"})
_ABSENT = frozenset({"no", "n", "absent", "false", "0", "0.0", "negative", "neg"})
_SEX = {"f": "female", "female": "female", "w": "female", "m": "male", "male": "male"}
ACCEPTED_BINARY = "yes/no, true/false, 1/0, present/absent (blank = unknown)"
ACCEPTED_SEX = "F/M or female/male (blank = unknown)"
MAX_AGE = 120


_MISSING_TEXT = frozenset({"", "na", "n/a", "nan", "null", "none"})


def is_unknown(value: Any) -> bool:
    """Return whether a cell means "unknown": None, NaN, pd.NA, NaT, blank or "NA" text."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip().lower() in _MISSING_TEXT
    try:
        return bool(value != value)  # NaN, NaT, pd.NA
    except TypeError:  # pd.NA raises in bool()
        return True


def parse_value(name: str, value: Any) -> int:
    """Parse a binary value: 1 present, 0 absent, -1 unknown.

    Parameters
    ----------
    name : str
        The variable's id, used in error messages.
    value : object
        The raw value.

    Returns
    -------
    int

    Raises
    ------
    EvidenceError
        If the value is not one of the accepted spellings.

    Examples
    --------
    >>> parse_value("fever", "Yes "), parse_value("fever", False), parse_value("fever", "")
    (1, 0, -1)
    """
    if is_unknown(value):
        return UNKNOWN
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, numbers.Number):
        if value == 1:
            return 1
        if value == 0:
            return 0
    elif isinstance(value, str):
        text = value.strip().lower()
        if text in _PRESENT:
            return 1
        if text in _ABSENT:
            return 0
    raise EvidenceError(f"Invalid value {value!r} for {name!r}; accepted: {ACCEPTED_BINARY}.")


def parse_age(kb: KnowledgeBase, value: Any) -> int:
    """Map an age in years to the index of its band (-1 when unknown)."""
    if is_unknown(value):
        return UNKNOWN
    age: float
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, str)):
        raise EvidenceError(f"Invalid value {value!r} for 'age'; give the age in years.")
    try:
        age = float(value)
    except ValueError:
        raise EvidenceError(f"Invalid value {value!r} for 'age'; give the age in years.") from None
    if not math.isfinite(age) or age < 0 or age > MAX_AGE:
        raise EvidenceError(f"Invalid value {value!r} for 'age'; give the age in years (0-120).")
    youngest = kb.age_bands[0].min_age
    if age < youngest:
        raise EvidenceError(
            f"Age {value!r} is below the model's population ({kb.population.strip()}); "
            f"the youngest band starts at {youngest}."
        )
    return max(i for i, b in enumerate(kb.age_bands) if b.min_age <= age)


def parse_sex(kb: KnowledgeBase, value: Any) -> int:
    """Map ``F``/``M`` (or ``female``/``male``) to the sex state's index (-1 when unknown)."""
    if is_unknown(value):
        return UNKNOWN
    state = _SEX.get(value.strip().lower()) if isinstance(value, str) else None
    if state is None or state not in kb.sex_ids:
        raise EvidenceError(f"Invalid value {value!r} for 'sex'; accepted: {ACCEPTED_SEX}.")
    return kb.sex_ids.index(state)


@dataclass(frozen=True, eq=False)
class Evidence:
    """Evidence of a batch of cases as arrays (one row per case).

    Attributes
    ----------
    roots : ndarray of int8, shape (n, R + 2)
        State index of each root (risk factors, then age band, then sex); -1 unknown.
    findings : ndarray of int8, shape (n, F)
        1 present, 0 absent, -1 unknown.
    """

    roots: np.ndarray
    findings: np.ndarray

    def __len__(self) -> int:
        return self.roots.shape[0]


def variable_names(kb: KnowledgeBase) -> tuple[str, ...]:
    """Return every name a case may use: ``age``, ``sex``, risk factors, findings."""
    return ("age", "sex", *kb.risk_factor_ids, *kb.finding_ids)


def parse_case(kb: KnowledgeBase, case: Mapping[str, Any]) -> Evidence:
    """Parse one case into a one-row :class:`Evidence`.

    Parameters
    ----------
    kb : KnowledgeBase
    case : mapping of str to object
        Variable id -> value; missing ids are unknown.

    Returns
    -------
    Evidence

    Raises
    ------
    EvidenceError
        For an unknown name (with the closest ids) or an invalid value.

    Examples
    --------
    >>> from diffdx import load_kb
    >>> kb = load_kb("calf_pain")
    >>> ev = parse_case(kb, {"age": 34, "sex": "M", "fever": "no", "runner": True})
    >>> int(ev.findings[0, kb.finding_ids.index("fever")]), int((ev.findings == -1).sum())
    (0, 51)
    """
    evidence = _empty(kb, 1)
    for name, value in case.items():
        target, col, parse = _locate(kb, evidence, name)
        target[0, col] = parse(value)
    return evidence


def _empty(kb: KnowledgeBase, n_rows: int) -> Evidence:
    return Evidence(
        roots=np.full((n_rows, len(kb.risk_factors) + 2), UNKNOWN, dtype=np.int8),
        findings=np.full((n_rows, len(kb.findings)), UNKNOWN, dtype=np.int8),
    )


def _locate(kb: KnowledgeBase, evidence: Evidence, name: str):
    """Return (array, column, scalar parser) of a case variable; unknown names raise."""
    n_rf = len(kb.risk_factors)
    if name == "age":
        return evidence.roots, n_rf, functools.partial(parse_age, kb)
    if name == "sex":
        return evidence.roots, n_rf + 1, functools.partial(parse_sex, kb)
    node = kb.by_id.get(name)
    if isinstance(node, RiskFactor):
        return evidence.roots, kb.risk_factor_ids.index(name), functools.partial(parse_value, name)
    if isinstance(node, Finding):
        return evidence.findings, kb.finding_ids.index(name), functools.partial(parse_value, name)
    raise EvidenceError(unknown_name_message(kb, name))


def unknown_name_message(kb: KnowledgeBase, name: Any) -> str:
    """Return the error message for a name the model does not know."""
    if name in kb.cause_ids:
        return (
            f"{name!r} is a cause, which diffdx infers; a case gives risk factors, findings, "
            "age and sex."
        )
    names = variable_names(kb)
    hint = did_you_mean(str(name), names)
    return (
        f"Unknown variable {name!r} in case (model {kb.name!r}){hint}. "
        "`diffdx variables` lists every accepted name."
    )


def observed_items(kb: KnowledgeBase, evidence: Evidence, row: int = 0) -> list[tuple[str, str]]:
    """List the observed variables of one case as ``(name, state)``, in model order.

    Names are case-record names (``age`` and ``sex`` for the demographic roots); states
    are node state names (``"present"``, ``"absent"``, an age band or a sex).
    """
    from diffdx.parameters import BINARY_STATES

    items = []
    n_rf = len(kb.risk_factors)
    for r, s in enumerate(evidence.roots[row]):
        if s < 0:
            continue
        if r < n_rf:
            items.append((kb.risk_factor_ids[r], BINARY_STATES[s]))
        elif r == n_rf:
            items.append(("age", kb.age_band_ids[s]))
        else:
            items.append(("sex", kb.sex_ids[s]))
    items += [
        (kb.finding_ids[f], BINARY_STATES[s])
        for f, s in enumerate(evidence.findings[row])
        if s >= 0
    ]
    return items


def node_states(kb: KnowledgeBase, evidence: Evidence, row: int = 0) -> dict[str, str]:
    """Return one case's evidence as pgmpy node states, e.g. ``{"age_band": "age_18_39"}``."""
    from diffdx.parameters import AGE_NODE, SEX_NODE

    rename = {"age": AGE_NODE, "sex": SEX_NODE}
    return {rename.get(name, name): state for name, state in observed_items(kb, evidence, row)}


def withdraw_each(kb: KnowledgeBase, evidence: Evidence, row: int = 0) -> Evidence:
    """Return one copy of case ``row`` per observed variable, with that variable unknown."""
    roots, findings = evidence.roots[row], evidence.findings[row]
    obs_roots = np.flatnonzero(roots >= 0)
    obs_findings = np.flatnonzero(findings >= 0)
    k = len(obs_roots) + len(obs_findings)
    out_roots = np.repeat(roots[None, :], k, axis=0)
    out_findings = np.repeat(findings[None, :], k, axis=0)
    out_roots[np.arange(len(obs_roots)), obs_roots] = UNKNOWN
    out_findings[len(obs_roots) + np.arange(len(obs_findings)), obs_findings] = UNKNOWN
    return Evidence(roots=out_roots, findings=out_findings)


def stack(*parts: Evidence) -> Evidence:
    """Concatenate several batches of evidence."""
    return Evidence(
        roots=np.concatenate([p.roots for p in parts]),
        findings=np.concatenate([p.findings for p in parts]),
    )


def roots_only(evidence: Evidence) -> Evidence:
    """Return the same cases with every finding unknown (for priors given risk factors)."""
    return Evidence(roots=evidence.roots.copy(), findings=np.full_like(evidence.findings, UNKNOWN))


def parse_columns(
    kb: KnowledgeBase, columns: Mapping[str, Any], n_rows: int
) -> tuple[Evidence, list[str | None]]:
    """Parse whole columns of case records at once (the batch twin of :func:`parse_case`).

    Each column is factorised and the scalar parsers (:func:`parse_value`,
    :func:`parse_age`, :func:`parse_sex`) are applied to its distinct values only, so a
    cell means exactly what it means to :func:`parse_case`, and a million rows cost
    about as much as their distinct values.

    Parameters
    ----------
    kb : KnowledgeBase
    columns : mapping of str to array-like
        Variable id -> the column's values (``age``, ``sex``, risk factors, findings).
        Names must already be checked (see :func:`unknown_name_message`). A pandas
        text column (string dtype) is factorised as is, which is much faster.
    n_rows : int

    Returns
    -------
    evidence : Evidence
        Rows with an invalid cell hold whatever parsed; check ``errors``.
    errors : list of str or None
        For each row, the first invalid cell's message (in column order), else None.
    """
    import pandas as pd

    evidence = _empty(kb, n_rows)
    errors: list[str | None] = [None] * n_rows
    for name, values in columns.items():
        target, col, parse = _locate(kb, evidence, name)
        if not (isinstance(values, pd.Series) and isinstance(values.dtype, pd.StringDtype)):
            values = pd.Series(values, dtype=object)  # keep each cell's own Python type
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        lookup = np.empty(len(uniques) + 1, dtype=np.int8)  # last slot: NA sentinel (-1)
        lookup[-1] = UNKNOWN
        bad: dict[int, str] = {}
        for k, value in enumerate(uniques):
            try:
                lookup[k] = parse(value)
            except EvidenceError as exc:
                lookup[k] = UNKNOWN
                bad[k] = f"column {name!r}: {exc}"
        target[:, col] = lookup[codes]
        if bad:
            for row in np.flatnonzero(np.isin(codes, list(bad))):
                if errors[row] is None:
                    errors[row] = bad[int(codes[row])]
    return evidence, errors
