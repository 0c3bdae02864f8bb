"""The fast engine agrees with pgmpy's exact VariableElimination to 1e-9 (the reference).

pgmpy needs about 0.2 s per case on the bundled model (seconds to minutes once several
risk factors are unknown and many findings are positive), so the random cases here are
the kind pgmpy answers quickly: most risk factors known, a few positive findings. They
are checked in batches of ten, spread over two worker processes. Stress cases (all missing,
all observed, many positives, extreme risk profiles) are checked one by one.
``DIFFDX_PGMPY_CASES`` changes the number of random cases (default 500).
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diffdx.compiled import compile_model
from diffdx.evidence import Evidence, node_states

N_CASES = int(os.environ.get("DIFFDX_PGMPY_CASES", "500"))
BATCH = 10
GROUP = 8
TOL = 1e-9

_worker: dict = {}


def _init_worker():
    import warnings

    warnings.simplefilter("ignore", FutureWarning)
    from pgmpy.inference import VariableElimination

    from diffdx import build_network, load_kb

    kb = load_kb("calf_pain")
    _worker["kb"] = kb
    _worker["inference"] = VariableElimination(build_network(kb))


def _pgmpy_posteriors(states: dict[str, str]) -> list[float]:
    """P(cause present | evidence) for every cause by pgmpy VariableElimination.

    pgmpy answers a joint query over a group of causes in one elimination, about as fast
    as a query over one cause, so causes are queried in groups of ``GROUP`` and each
    marginal is summed out of pgmpy's exact joint.
    """
    kb, inference = _worker["kb"], _worker["inference"]
    causes = list(kb.cause_ids)
    out = {}
    for i in range(0, len(causes), GROUP):
        group = causes[i : i + GROUP]
        joint = inference.query(group, evidence=states, show_progress=False, joint=True)
        for c in group:
            others = [g for g in group if g != c]
            marginal = joint.marginalize(others, inplace=False) if others else joint
            out[c] = float(marginal.get_value(**{c: "present"}))
    return [out[c] for c in causes]


@pytest.fixture(scope="module")
def pool():
    with ProcessPoolExecutor(max_workers=2, initializer=_init_worker) as executor:
        yield executor


@st.composite
def light_cases(draw, kb, n: int):
    """``n`` cases pgmpy answers quickly: most risk factors known, few positives."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_rf, n_f = len(kb.risk_factors), len(kb.findings)
    roots = np.empty((n, n_rf + 2), np.int8)
    findings = np.empty((n, n_f), np.int8)
    for i in range(n):
        p_missing = rng.choice([0.0, 0.03, 0.06])
        p_obs = rng.choice([0.2, 0.5, 0.8])
        p_pos = rng.choice([0.02, 0.05, 0.1])
        rf = rng.integers(0, 2, n_rf) * (rng.random(n_rf) < rng.choice([0.1, 0.3, 0.6]))
        demo = [rng.integers(len(kb.age_bands)), rng.integers(len(kb.sex_states))]
        roots[i] = np.where(rng.random(n_rf + 2) < p_missing, -1, np.r_[rf, demo])
        findings[i] = np.where(rng.random(n_f) < p_obs, rng.random(n_f) < p_pos, -1)
    return Evidence(roots, findings)


def test_random_cases_match_pgmpy(kb, pool):
    engine = compile_model(kb).engine
    checked: list[int] = []

    @settings(
        max_examples=max(1, N_CASES // BATCH),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(ev=light_cases(kb, BATCH))
    def check(ev):
        post, _ = engine.posteriors(ev)
        states = [node_states(kb, ev, i) for i in range(len(ev))]
        ref = np.array(list(pool.map(_pgmpy_posteriors, states)))
        np.testing.assert_allclose(post, ref, rtol=0, atol=TOL)
        checked.extend(int((ev.findings[i] == 1).sum()) for i in range(len(ev)))

    check()
    assert len(checked) >= N_CASES
    assert max(checked) >= 6, "some cases must have several positive findings"


def _stress_case(kb, name):
    n_roots, n_f = len(kb.risk_factors) + 2, len(kb.findings)
    every_other = np.arange(n_f) % 2
    cases = {
        "all-missing": (np.full(n_roots, -1), np.full(n_f, -1)),
        "all-observed-absent": (np.zeros(n_roots), np.zeros(n_f)),
        "all-observed-some-positive": (np.zeros(n_roots), (np.arange(n_f) % 5 == 0)),
        "all-risk-factors-present": (
            np.r_[np.ones(n_roots - 2), len(kb.age_bands) - 1, 1],
            np.full(n_f, -1),
        ),
        "extreme-profile-many-positives": (
            np.r_[np.ones(n_roots - 2), len(kb.age_bands) - 1, 1],
            np.where(np.arange(n_f) % 3 == 0, 1, every_other * 0),
        ),
        "no-risk-factors-twelve-positives": (
            np.zeros(n_roots),
            np.where(np.arange(n_f) % 4 == 0, 1, -1),
        ),
        # The next three are wide enough for the fewest-fill-in order (the smallest-
        # clique-first order would build 62,000 to 870,000 entries; see
        # diffdx._elimination.FILL_ORDER_ABOVE), yet quick for pgmpy.
        "risk-factors-unknown-every-third-positive": (
            np.r_[np.full(n_roots - 2, -1), 1, 0],
            np.where(np.arange(n_f) % 3 == 0, 1, -1),
        ),
        "no-risk-factors-every-other-positive": (
            np.zeros(n_roots),
            np.where(np.arange(n_f) % 2 == 0, 1, -1),
        ),
        "half-risk-factors-unknown-every-third-positive": (
            np.r_[np.where(np.arange(n_roots - 2) % 2 == 0, -1, 0), 1, 0],
            np.where(np.arange(n_f) % 3 == 0, 1, 0),
        ),
    }
    roots, findings = cases[name]
    return Evidence(np.array([roots], np.int8), np.array([findings], np.int8))


@pytest.mark.parametrize(
    "name",
    [
        "all-missing",
        "all-observed-absent",
        "all-observed-some-positive",
        "all-risk-factors-present",
        "extreme-profile-many-positives",
        "no-risk-factors-twelve-positives",
        "risk-factors-unknown-every-third-positive",
        "no-risk-factors-every-other-positive",
        "half-risk-factors-unknown-every-third-positive",
    ],
)
def test_stress_cases_match_pgmpy(kb, pool, name):
    ev = _stress_case(kb, name)
    post, log_pe = compile_model(kb).engine.posteriors(ev)
    ref = pool.submit(_pgmpy_posteriors, node_states(kb, ev)).result()
    np.testing.assert_allclose(post[0], ref, rtol=0, atol=TOL)
    assert np.isfinite(log_pe).all()
