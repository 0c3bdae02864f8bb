"""``rank_causes``: the ranked differential of one case, with triage and reasons.

One data path: case -> :class:`~diffdx.evidence.Evidence` -> engine (one batch holding the
case, the case without findings for the priors, and the case with each observed variable
withdrawn in turn for the reasons) -> ranking, triage and explanations.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from diffdx import display
from diffdx.compiled import CompiledModel, compile_model
from diffdx.evidence import (
    UNKNOWN,
    Evidence,
    node_states,
    observed_items,
    parse_case,
    roots_only,
    stack,
    withdraw_each,
)
from diffdx.exceptions import EvidenceError, InvalidParameterError
from diffdx.kb import KnowledgeBase
from diffdx.triage import TRIAGE_LEVELS, assess

__all__ = ["Ranking", "explain", "rank_causes"]

DISCLAIMER = "Research tool, not medical advice."
ModelLike = str | os.PathLike[str] | KnowledgeBase | CompiledModel


def log_odds(p: np.ndarray) -> np.ndarray:
    """Return ``log(p / (1 - p))``, with p clipped to [1e-300, 1 - 1e-16] so it stays finite."""
    p = np.clip(p, 1e-300, 1.0 - 1e-16)
    return np.log(p) - np.log1p(-p)


@dataclass(frozen=True, repr=False)
class Ranking:
    """The ranked differential of one case.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per cause, sorted by ``posterior`` (descending): ``cause``, ``label``,
        ``urgency``, ``prior`` (given the risk factors and demographics alone),
        ``posterior``, ``lift`` (posterior / prior), ``action_threshold`` and ``flagged``
        (an emergency or urgent cause whose posterior reaches its action threshold).
    triage : str
        ``"emergency"``, ``"urgent"``, ``"routine"`` or ``"self_care"``.
    triage_reasons : tuple of str
        Why, most important first.
    contributions : pandas.DataFrame
        Rows: the observed variables; columns: the causes. Each value is the change in the
        cause's log-odds when that variable is withdrawn (positive: it pushed the cause up).
    evidence : dict
        The evidence used, as node states (``{"age_band": "age_18_39", "fever": "absent"}``).
    model : dict
        ``name``, ``version`` and ``hash`` of the model.
    log_evidence : float
        log P(evidence) under the model.
    """

    frame: pd.DataFrame
    triage: str
    triage_reasons: tuple[str, ...]
    contributions: pd.DataFrame
    evidence: Mapping[str, str]
    model: Mapping[str, str]
    log_evidence: float
    _compiled: CompiledModel = field(compare=False)
    _raw: Evidence = field(compare=False)
    _posterior: np.ndarray = field(compare=False)  # every cause, in model order

    disclaimer = DISCLAIMER

    def to_frame(self) -> pd.DataFrame:
        """Return a copy of the ranked table (plain numbers, nothing rounded)."""
        return self.frame.copy()

    def explain(self, cause: str) -> pd.DataFrame:
        """Return the contribution of each observed variable to one cause.

        Parameters
        ----------
        cause : str
            A cause id.

        Returns
        -------
        pandas.DataFrame
            Columns ``variable``, ``value``, ``contribution`` (change in log-odds when the
            variable is withdrawn), sorted by absolute contribution.
        """
        kb = self._compiled.kb
        if cause not in kb.cause_ids:
            from diffdx.kb_io import did_you_mean

            raise EvidenceError(f"Unknown cause {cause!r}{did_you_mean(cause, kb.cause_ids)}.")
        col = self.contributions[cause]
        out = pd.DataFrame(
            {
                "variable": col.index,
                "value": [self.evidence_value(v) for v in col.index],
                "contribution": col.to_numpy(),
            }
        )
        order = np.argsort(-np.abs(out["contribution"].to_numpy()), kind="stable")
        return out.iloc[order].reset_index(drop=True)

    def evidence_value(self, variable: str) -> str:
        """Return the observed state of a case variable (``age``, ``sex`` or a node id)."""
        from diffdx.parameters import AGE_NODE, SEX_NODE

        key = {"age": AGE_NODE, "sex": SEX_NODE}.get(variable, variable)
        return self.evidence[key]

    def reasons(self, cause: str, top: int = 3) -> str:
        """Return the strongest contributions to ``cause`` as text, e.g. ``"pop_heard +2.1"``."""
        rows = self.explain(cause).head(top)
        return ", ".join(f"{r.variable} {r.contribution:+.1f}" for r in rows.itertuples())

    def next_questions(self, top: int = 5) -> pd.DataFrame:
        """Suggest what to ask or test next: the unobserved variables worth most.

        For each unknown finding or risk factor, the model computes the probability that it
        is present, the posteriors if it were present or absent, and the expected
        information gain about the causes (the sum, over causes, of the mutual information
        between the variable and the cause, in bits). Variables whose answer could change
        the triage level are marked.

        Parameters
        ----------
        top : int, default=5
            How many suggestions to return.

        Returns
        -------
        pandas.DataFrame
            ``variable``, ``question``, ``p_present``, ``information_bits``,
            ``triage_if_present``, ``triage_if_absent``; best first.
        """
        return _next_questions(self, top)

    def plot(self, ax=None, *, top: int | None = 10):
        """Draw a horizontal bar chart of the posteriors (needs matplotlib).

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Where to draw; a new figure if omitted.
        top : int or None, default=10
            How many causes to show.

        Returns
        -------
        matplotlib.axes.Axes
        """
        from diffdx.plotting import plot_ranking

        return plot_ranking(self, ax=ax, top=top)

    def __repr__(self) -> str:
        return display.ranking_text(self)

    def _repr_html_(self) -> str:
        return display.ranking_html(self)


def _entropy(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-300, 1.0)
    q = np.clip(1.0 - p, 1e-300, 1.0)
    return -(p * np.log2(p) + q * np.log2(q))


def _next_questions(ranking: Ranking, top: int) -> pd.DataFrame:
    """Compute :meth:`Ranking.next_questions` (two engine rows per unknown variable)."""
    compiled = ranking._compiled
    kb = compiled.kb
    base = ranking._raw
    n_rf = len(kb.risk_factors)
    unknown_rf = [r for r in range(n_rf) if base.roots[0, r] == UNKNOWN]
    unknown_f = np.flatnonzero(base.findings[0] == UNKNOWN).tolist()
    k = len(unknown_rf) + len(unknown_f)
    roots = np.repeat(base.roots, 2 * k, axis=0)
    findings = np.repeat(base.findings, 2 * k, axis=0)
    for j, r in enumerate(unknown_rf):
        roots[2 * j, r], roots[2 * j + 1, r] = 1, 0
    for j, f in enumerate(unknown_f, len(unknown_rf)):
        findings[2 * j, f], findings[2 * j + 1, f] = 1, 0
    post, log_pe = compiled.engine.posteriors(Evidence(roots=roots, findings=findings))
    p_present = np.exp(log_pe[0::2] - ranking.log_evidence)
    current = ranking._posterior
    expected = p_present[:, None] * _entropy(post[0::2]) + (1 - p_present[:, None]) * _entropy(
        post[1::2]
    )
    gain = np.maximum(_entropy(current)[None, :] - expected, 0.0).sum(axis=1)
    levels, _ = assess(kb, post, findings)
    names = [kb.risk_factor_ids[r] for r in unknown_rf] + [kb.finding_ids[f] for f in unknown_f]
    questions = [kb.by_id[n].question or kb.by_id[n].label for n in names]
    out = pd.DataFrame(
        {
            "variable": names,
            "question": questions,
            "p_present": p_present,
            "information_bits": gain,
            "triage_if_present": [TRIAGE_LEVELS[i] for i in levels[0::2]],
            "triage_if_absent": [TRIAGE_LEVELS[i] for i in levels[1::2]],
        }
    )
    out = out.sort_values("information_bits", ascending=False, kind="stable")
    return out.head(top).reset_index(drop=True)


def _as_case(case: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    if case is None:
        items: dict[str, Any] = {}
    elif isinstance(case, pd.Series):
        items = dict(case.items())
    elif isinstance(case, Mapping):
        items = dict(case)
    else:
        raise InvalidParameterError(
            "The 'case' parameter of rank_causes must be a dict, a pandas Series or None. "
            f"Got {type(case).__name__} instead."
        )
    both = sorted(set(items) & set(kwargs))
    if both:
        raise InvalidParameterError(
            f"{', '.join(map(repr, both))} given both in the case and as keyword arguments."
        )
    return {**items, **kwargs}


def rank_causes(
    case: Mapping[str, Any] | pd.Series | None = None,
    *,
    model: ModelLike = "calf_pain",
    top: int | None = None,
    **variables: Any,
) -> Ranking:
    """Rank every cause of calf pain by its posterior probability for one case.

    Parameters
    ----------
    case : dict or pandas.Series, optional
        Variable id -> value: risk factors and findings (``True``/``False``, ``1``/``0``,
        ``"yes"``/``"no"``, ``"present"``/``"absent"``, case-insensitive; ``None``, NaN and
        ``""`` mean unknown), ``age`` in years and ``sex`` (``"F"``/``"M"``). Variables
        not given are unknown and marginalised exactly.
    model : str, path-like, KnowledgeBase or CompiledModel, default="calf_pain"
        The model: a bundled name, a YAML path or a loaded knowledge base.
    top : int or None, default=None
        Keep only the ``top`` most probable causes in ``frame``, plus any flagged urgent
        cause below them (a likely strain must never hide a possible clot). Triage always
        considers every cause.
    **variables
        More case variables as keyword arguments.

    Returns
    -------
    Ranking

    Raises
    ------
    EvidenceError
        For an unknown variable (with the closest ids) or an invalid value.

    See Also
    --------
    explain : the contributions to one cause as a DataFrame.

    Examples
    --------
    >>> r = rank_causes({"age": 34, "sex": "M", "sudden_onset": "yes", "pop_heard": 1,
    ...                  "positive_thompson_test": True, "palpable_gap": "yes"})
    >>> r.frame.iloc[0]["cause"], r.triage
    ('achilles_rupture', 'emergency')
    """
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise InvalidParameterError(
            f"The 'top' parameter of rank_causes must be an int >= 1 or None. Got {top!r} instead."
        )
    compiled = compile_model(model)
    kb = compiled.kb
    evidence = parse_case(kb, _as_case(case, variables))
    withdrawn = withdraw_each(kb, evidence)
    post, log_pe = compiled.engine.posteriors(stack(evidence, roots_only(evidence), withdrawn))
    posterior, prior = post[0], post[1]
    levels, reasons = assess(kb, post[:1], evidence.findings)

    items = observed_items(kb, evidence)
    contributions = pd.DataFrame(
        log_odds(posterior)[None, :] - log_odds(post[2:]),
        index=pd.Index([name for name, _ in items], name="variable"),
        columns=compiled.cause_index.copy(),
    )
    static = compiled.cause_columns
    order = np.argsort(-posterior, kind="stable")
    thresholds = static["action_threshold"][order]
    frame = pd.DataFrame(
        {
            "cause": static["cause"][order],
            "label": static["label"][order],
            "urgency": static["urgency"].take(order),
            "prior": prior[order],
            "posterior": posterior[order],
            "lift": posterior[order] / prior[order],
            "action_threshold": thresholds,
            "flagged": static["urgent"][order] & (posterior[order] >= thresholds),
        }
    )
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="rank")
    if top is not None:  # the top causes, and never hide a flagged urgent cause
        frame = frame[(frame.index <= top) | frame["flagged"]]
    return Ranking(
        frame=frame,
        triage=TRIAGE_LEVELS[levels[0]],
        triage_reasons=reasons[0],
        contributions=contributions,
        evidence=node_states(kb, evidence),
        model={"name": kb.name, "version": kb.version, "hash": kb.content_hash},
        log_evidence=float(log_pe[0]),
        _compiled=compiled,
        _raw=evidence,
        _posterior=posterior,
    )


def explain(
    case: Mapping[str, Any] | pd.Series | None,
    cause: str,
    *,
    model: ModelLike = "calf_pain",
) -> pd.DataFrame:
    """Return how each observed variable pushed one cause up or down.

    The contribution of a variable is the change in the cause's log-odds when that
    variable is withdrawn from the case (made unknown), computed exactly.

    Parameters
    ----------
    case : dict or pandas.Series
        As for :func:`rank_causes`.
    cause : str
        A cause id, e.g. ``"dvt"``.
    model : str, path-like, KnowledgeBase or CompiledModel, default="calf_pain"

    Returns
    -------
    pandas.DataFrame
        ``variable``, ``value``, ``contribution``; strongest first.

    Examples
    --------
    >>> df = explain({"positive_thompson_test": "yes", "fever": "no"}, "achilles_rupture")
    >>> df["variable"].tolist()
    ['positive_thompson_test', 'fever']
    """
    return rank_causes(case, model=model).explain(cause)
