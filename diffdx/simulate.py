"""Simulate case records from a model (forward sampling), for examples and benchmarks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from diffdx.compiled import compile_model
from diffdx.ranking import ModelLike

__all__ = ["simulate_cases"]


def simulate_cases(
    n: int,
    *,
    model: ModelLike = "calf_pain",
    seed: int = 0,
    missing_risk_factors: float = 0.3,
    missing_findings: float = 0.5,
    missing_demographics: float = 0.02,
    include_causes: bool = False,
) -> pd.DataFrame:
    """Draw ``n`` case records from the model's joint distribution, then hide some cells.

    Parameters
    ----------
    n : int
        Number of records.
    model : str, path-like or KnowledgeBase, default="calf_pain"
    seed : int, default=0
    missing_risk_factors, missing_findings, missing_demographics : float
        Probability that each such cell is left blank (unknown).
    include_causes : bool, default=False
        Add the sampled causes as ``true_<cause>`` columns (0/1), e.g. for evaluation.

    Returns
    -------
    pandas.DataFrame
        Columns ``id``, ``age`` (years), ``sex`` (``F``/``M``), every risk factor and
        finding as ``"yes"``/``"no"``/``""``.

    Examples
    --------
    >>> df = simulate_cases(5, seed=1)
    >>> list(df.columns[:3]), len(df)
    (['id', 'age', 'sex'], 5)
    """
    compiled = compile_model(model)
    kb, p = compiled.kb, compiled.params
    rng = np.random.default_rng(seed)
    n_rf = len(kb.risk_factors)
    roots = np.empty((n, len(p.roots)), dtype=np.int64)
    for r, prior in enumerate(p.root_prior):
        roots[:, r] = rng.choice(len(prior), size=n, p=prior)
    # The network treats risk factors as independent; records of men do not say pregnant.
    male = np.array(kb.sex_ids)[roots[:, n_rf + 1]] == "male"
    for female_only in ("pregnancy", "oral_contraceptives"):
        if female_only in kb.risk_factor_ids:
            roots[male, kb.risk_factor_ids.index(female_only)] = 0
    slots = np.zeros((n, len(p.slot_root)), dtype=bool)
    for s, (r, state) in enumerate(zip(p.slot_root, p.slot_state, strict=True)):
        slots[:, s] = roots[:, r] == state
    log_absent = p.cause_log_leak + slots @ p.slot_log_inhibitor
    present = -np.expm1(log_absent) * np.exp(slots @ p.slot_log_survival)
    causes = rng.random(present.shape) < present
    p_finding = -np.expm1(p.finding_log_leak + causes @ p.cause_log_inhibitor)
    findings = rng.random(p_finding.shape) < p_finding

    def cells(values: np.ndarray, missing: float) -> np.ndarray:
        out = np.where(values, "yes", "no").astype(object)
        out[rng.random(values.shape) < missing] = ""
        return out

    bands = kb.age_bands
    lo = np.array([b.min_age for b in bands])
    hi = np.r_[lo[1:], 95]
    age = rng.integers(lo[roots[:, n_rf]], hi[roots[:, n_rf]]).astype(object)
    age[rng.random(n) < missing_demographics] = ""
    sex = np.array(["F" if s == "female" else "M" for s in kb.sex_ids], dtype=object)[
        roots[:, n_rf + 1]
    ]
    sex[rng.random(n) < missing_demographics] = ""
    data: dict[str, object] = {"id": [f"case{i + 1:06d}" for i in range(n)], "age": age, "sex": sex}
    rf_cells = cells(roots[:, :n_rf] == 1, missing_risk_factors)
    data.update({r: rf_cells[:, i] for i, r in enumerate(kb.risk_factor_ids)})
    f_cells = cells(findings, missing_findings)
    data.update({f: f_cells[:, i] for i, f in enumerate(kb.finding_ids)})
    if include_causes:
        data.update({f"true_{c}": causes[:, j].astype(int) for j, c in enumerate(kb.cause_ids)})
    return pd.DataFrame(data)
