"""The engine against brute-force enumeration, and its numerical safety."""

from __future__ import annotations

import dataclasses
import importlib
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from diffdx._jit import KERNEL_DEPENDENCIES, sources_digest
from diffdx.compiled import compile_model
from diffdx.engine import Engine
from diffdx.evidence import Evidence
from diffdx.exceptions import ImpossibleEvidenceError
from tests.oracle import enumerate_joint
from tests.strategies import evidence_rows, oracle_evidence


def _check_against_oracle(kb, ev, atol=1e-13):
    engine = compile_model(kb).engine
    post, log_pe = engine.posteriors(ev)
    for i in range(len(ev)):
        want, total = enumerate_joint(kb, oracle_evidence(kb, ev, i))
        np.testing.assert_allclose(post[i], [want[c] for c in kb.cause_ids], rtol=0, atol=atol)
        assert log_pe[i] == pytest.approx(math.log(total), abs=1e-11)


def test_brute_force_property(tiny_kb):
    @settings(
        max_examples=300,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(ev=evidence_rows(tiny_kb, max_rows=4))
    def check(ev):
        _check_against_oracle(tiny_kb, ev)

    check()


def test_priors_when_nothing_observed(tiny_kb):
    engine = compile_model(tiny_kb).engine
    n_roots = len(tiny_kb.risk_factors) + 2
    ev = Evidence(np.full((1, n_roots), -1, np.int8), np.full((1, 5), -1, np.int8))
    post, log_pe = engine.posteriors(ev)
    want, _ = enumerate_joint(tiny_kb, {})
    np.testing.assert_allclose(post[0], [want[c] for c in tiny_kb.cause_ids], atol=1e-15)
    assert log_pe[0] == 0.0


def test_batch_equals_single_rows(kb, rng):
    engine = compile_model(kb).engine
    n = 200  # above the parallel threshold
    roots = rng.integers(-1, 2, size=(n, len(kb.risk_factors) + 2)).astype(np.int8)
    roots[:, -2] = rng.integers(-1, len(kb.age_bands), size=n)
    findings = np.where(
        rng.random((n, len(kb.findings))) < 0.5, -1, (rng.random((n, len(kb.findings))) < 0.15)
    ).astype(np.int8)
    batch_post, batch_lpe = engine.posteriors(Evidence(roots, findings))
    for i in range(0, n, 17):
        post, lpe = engine.posteriors(Evidence(roots[i : i + 1], findings[i : i + 1]))
        np.testing.assert_array_equal(post[0], batch_post[i])
        assert lpe[0] == batch_lpe[i]


def test_every_finding_observed_stays_finite(kb):
    """60+ observed findings, many positive: no NaN, no inf, posteriors in [0, 1]."""
    engine = compile_model(kb).engine
    rows = []
    for k in range(0, 4):
        f = np.zeros(len(kb.findings), np.int8)
        f[k::4] = 1  # a quarter positive, the rest absent
        rows.append(f)
    rows.append(np.ones(len(kb.findings), np.int8))  # everything present
    rows.append(np.zeros(len(kb.findings), np.int8))  # everything absent
    findings = np.array(rows)
    roots = np.zeros((len(rows), len(kb.risk_factors) + 2), np.int8)
    post, log_pe = engine.posteriors(Evidence(roots, findings))
    assert np.isfinite(post).all() and np.isfinite(log_pe).all()
    assert ((post >= 0) & (post <= 1)).all()
    assert (log_pe < 0).all()


def test_impossible_evidence_names_the_findings(tiny_kb):
    engine = compile_model(tiny_kb).engine
    # A finding that is always present (leak 1) cannot be observed absent.
    leak = engine.finding_log_leak.copy()
    leak[tiny_kb.finding_ids.index("warmth")] = -np.inf
    broken = dataclasses.replace(engine, finding_log_leak=leak)
    roots = np.full((1, len(tiny_kb.risk_factors) + 2), -1, np.int8)
    findings = np.full((1, len(tiny_kb.findings)), -1, np.int8)
    findings[0, tiny_kb.finding_ids.index("warmth")] = 0
    findings[0, tiny_kb.finding_ids.index("redness")] = 1
    with pytest.raises(
        ImpossibleEvidenceError, match=r"probability zero.*present: redness; absent: warmth"
    ):
        broken.posteriors(Evidence(roots, findings))


def test_a_finding_without_causes_only_scales_the_evidence(tiny_kb):
    # Model files cannot have one, but hand-built parameters can: its leak alone acts.
    from diffdx.parameters import noisy_or_parameters

    params = noisy_or_parameters(tiny_kb)
    f = len(tiny_kb.findings) - 1  # the last: nothing after it in the parent lists
    w = params.cause_log_inhibitor.copy()
    w[:, f] = 0.0
    engine = Engine.from_parameters(dataclasses.replace(params, cause_log_inhibitor=w))
    roots = np.full((2, len(tiny_kb.risk_factors) + 2), -1, np.int8)
    findings = np.full((2, len(tiny_kb.findings)), -1, np.int8)
    findings[:, tiny_kb.finding_ids.index("warmth")] = 1
    findings[1, f] = 1
    post, log_pe = engine.posteriors(Evidence(roots, findings))
    np.testing.assert_allclose(post[1], post[0], rtol=0, atol=1e-15)
    leak = engine.finding_log_leak[f]
    assert log_pe[1] == pytest.approx(log_pe[0] + math.log(-math.expm1(leak)), abs=1e-12)


def test_engine_from_parameters_is_reusable(tiny_kb):
    from diffdx.parameters import noisy_or_parameters

    e1 = Engine.from_parameters(noisy_or_parameters(tiny_kb))
    e2 = compile_model(tiny_kb).engine
    np.testing.assert_array_equal(e1.cause_log_inhibitor, e2.cause_log_inhibitor)


def _check_random_cases(kb, max_examples, atol=1e-13):
    """Hypothesis: batches of random evidence on ``kb`` agree with enumeration."""

    @settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(ev=evidence_rows(kb, max_rows=3))
    def check(ev):
        _check_against_oracle(kb, ev, atol)

    check()


@pytest.mark.parametrize("seed", range(12))
def test_random_models_against_brute_force(seed):
    """Random structures (shared parents, protective links, demographics) vs enumeration."""
    from tests.random_models import random_model

    _check_random_cases(random_model(seed), max_examples=25)


@pytest.mark.parametrize("seed", range(4))
def test_roots_of_barren_causes_are_marginalised_exactly(seed):
    """Nothing about the roots, one or two findings: most causes have no observed finding,
    so the roots they alone share are summed into each of them (and every root when no
    finding is observed); the posteriors still match enumeration."""
    from tests.random_models import random_model

    kb = random_model(seed)
    n_roots = len(kb.risk_factors) + 2
    rng = np.random.default_rng(seed)
    findings = np.full((6, len(kb.findings)), -1, dtype=np.int8)
    for i in range(1, 6):
        chosen = rng.choice(len(kb.findings), size=1 + i % 2, replace=False)
        findings[i, chosen] = rng.integers(0, 2, size=len(chosen))
    roots = np.full((6, n_roots), -1, dtype=np.int8)
    roots[5, -2:] = 0  # age band and sex known, every risk factor unknown
    _check_against_oracle(kb, Evidence(roots=roots, findings=findings))


@pytest.mark.parametrize("seed", range(3))
def test_dense_random_models_against_brute_force(seed):
    """Findings with up to 8 causes and causes with many risk factors, so the engine's
    chained factors (for positive findings and for cause CPTs) are exercised."""
    from diffdx.engine import CHAIN_MIN_PARENTS
    from tests.random_models import random_model

    kb = random_model(
        100 + seed, n_rf=6, n_causes=8, n_findings=8, max_extra_parents=7, rf_link=0.8
    )
    fan_in = [
        sum(f.id in {x.child for x in c.finding_links} for c in kb.causes) for f in kb.findings
    ]
    risk_factors = [len(c.risk_links) for c in kb.causes]
    # chains of at least three links (head, middle, last), and chained cause CPTs
    assert max(fan_in) > CHAIN_MIN_PARENTS + 1 and max(risk_factors) > CHAIN_MIN_PARENTS
    # The oracle's own rounding reaches 1e-13 here: it computes 1 - (product of seven
    # factors) directly (checked in exact fractions on a failing case: the engine was
    # within 1.1e-16, the oracle 1.1e-13 off).
    atol = 1e-12
    _check_random_cases(kb, max_examples=12, atol=atol)
    n_f, n_r = len(kb.findings), len(kb.risk_factors) + 2
    findings = np.array([np.ones(n_f), np.arange(n_f) % 2, np.arange(n_f) % 3 == 0], np.int8)
    _check_against_oracle(kb, Evidence(np.full((3, n_r), -1, np.int8), findings), atol)


def test_seventy_observed_findings_many_positive():
    """No NaN or inf with 60+ observed findings, half of them positive; still exact."""
    from tests.random_models import random_model

    kb = random_model(7, n_rf=3, n_causes=7, n_findings=70)
    n_f = len(kb.findings)
    rows = [np.where(np.arange(n_f) % k == 0, 1, 0) for k in (1, 2, 3)]
    findings = np.array(rows, dtype=np.int8)
    roots = np.full((len(rows), len(kb.risk_factors) + 2), -1, np.int8)
    ev = Evidence(roots, findings)
    post, log_pe = compile_model(kb).engine.posteriors(ev)
    assert np.isfinite(post).all() and np.isfinite(log_pe).all()
    assert log_pe.min() < -60  # the evidence is very improbable, and that is fine
    _check_against_oracle(kb, ev)


def test_too_wide_a_case_is_an_error_not_a_crash():
    """A case whose elimination would need tables past the limit fails cleanly, alone."""
    from diffdx.exceptions import InferenceLimitError
    from tests.random_models import random_model

    kb = random_model(3, n_rf=2, n_causes=30, n_findings=40, max_extra_parents=29)
    n_f, n_r = len(kb.findings), len(kb.risk_factors) + 2
    roots = np.zeros((2, n_r), np.int8)
    findings = np.stack([np.ones(n_f, np.int8), np.zeros(n_f, np.int8)])
    engine = compile_model(kb).engine
    post, _, problems = engine.posteriors_by_row(Evidence(roots, findings))
    assert isinstance(problems[0], InferenceLimitError)
    assert "observe more risk factors or findings" in str(problems[0])
    assert problems[1] is None and np.isfinite(post[1]).all()  # the other case still scores
    with pytest.raises(InferenceLimitError):
        engine.posteriors(Evidence(roots[:1], findings[:1]))


def test_cases_over_the_parallel_budget_run_alone_and_agree(monkeypatch):
    """A case too big to run beside others waits and runs alone: same bits as by itself."""
    import diffdx.engine
    from diffdx.evidence import parse_columns
    from diffdx.simulate import simulate_cases

    compiled = compile_model("calf_pain")
    cases = simulate_cases(40, seed=3).drop(columns="id")
    ev, _ = parse_columns(compiled.kb, {c: cases[c] for c in cases}, len(cases))
    engine = compiled.engine
    alone = np.vstack(
        [
            engine.posteriors(Evidence(ev.roots[i : i + 1], ev.findings[i : i + 1]))[0]
            for i in range(40)
        ]
    )
    both, _ = engine.posteriors(ev)
    # 4 KiB: every case with a component of a few causes now waits for the serial pass
    monkeypatch.setattr(diffdx.engine, "PARALLEL_CASE_BYTES", 4096)
    waited, log_pe = engine.posteriors(ev)
    assert np.array_equal(waited, alone) and np.array_equal(both, alone)
    assert np.isfinite(log_pe).all()


def test_the_memory_budget_per_case_is_configurable(monkeypatch):
    from diffdx.engine import MAX_CASE_BYTES, max_case_bytes
    from diffdx.exceptions import InferenceLimitError, InvalidParameterError
    from tests.random_models import random_model

    monkeypatch.delenv("DIFFDX_MAX_CASE_MB", raising=False)
    assert max_case_bytes() == MAX_CASE_BYTES
    for bad in ("0", "-5", "1.5", "lots"):
        monkeypatch.setenv("DIFFDX_MAX_CASE_MB", bad)
        with pytest.raises(InvalidParameterError, match="DIFFDX_MAX_CASE_MB"):
            max_case_bytes()
    # a case needing 16-64 MiB: fine with 64, an error with 1, and the others still score
    kb = random_model(3, n_rf=2, n_causes=30, n_findings=40, max_extra_parents=29)
    n_f, n_r = len(kb.findings), len(kb.risk_factors) + 2
    findings = np.zeros((5, n_f), np.int8)
    findings[0, :8] = 1
    ev = Evidence(np.zeros((5, n_r), np.int8), findings)
    engine = compile_model(kb).engine
    monkeypatch.setenv("DIFFDX_MAX_CASE_MB", "64")
    post, _, problems = engine.posteriors_by_row(ev)
    assert problems == [None] * 5
    monkeypatch.setenv("DIFFDX_MAX_CASE_MB", "1")
    post1, _, problems = engine.posteriors_by_row(ev)
    assert isinstance(problems[0], InferenceLimitError)
    assert "more than 1 MiB" in str(problems[0]) and "DIFFDX_MAX_CASE_MB" in str(problems[0])
    assert problems[1:] == [None] * 4 and np.array_equal(post1[1:], post[1:])


@pytest.mark.parametrize("module", sorted(KERNEL_DEPENDENCIES))
def test_jitted_modules_record_the_hash_of_their_kernels(module):
    """numba's cache of a module is keyed on its own file; the recorded hash of the
    kernel modules it compiles in makes any change to them recompile it."""
    current = sources_digest(*KERNEL_DEPENDENCIES[module])
    recorded = importlib.import_module(f"diffdx.{module}").KERNEL_SOURCES_SHA256
    assert recorded == current, (
        f"Set KERNEL_SOURCES_SHA256 = {current!r} in diffdx/{module}.py: its kernels changed."
    )


def test_engine_frees_every_array_it_allocates(tmp_path):
    """The engine's loops use borrowed (not reference-counted) views of arrays; the
    arrays they borrow from must still be freed once each case is done. Its arrays come
    from a workspace while it has room, then from malloc: with a tiny workspace, most do.
    numba counts allocations only if told so before it loads, hence the subprocess."""
    import os
    import subprocess
    import sys

    script = """
from numba.core.runtime import rtsys
from diffdx import load_kb, simulate_cases
from diffdx.compiled import compile_model
from diffdx.evidence import parse_columns
import diffdx.engine
from diffdx._workspace import WorkspacePool
diffdx.engine._WORKSPACES = WorkspacePool(entries=64)
kb = load_kb("calf_pain")
engine = compile_model(kb).engine
df = simulate_cases(200, seed=3)
ev, _ = parse_columns(kb, {c: df[c].to_numpy() for c in df.columns if c != "id"}, 200)
engine.posteriors(ev)
before = rtsys.get_allocation_stats()
engine.posteriors(ev)
after = rtsys.get_allocation_stats()
print(after.alloc - before.alloc, after.free - before.free)
"""
    env = {**os.environ, "NUMBA_NRT_STATS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=tmp_path,  # outside the checkout: import the installed package
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    allocated, freed = map(int, out.stdout.split())
    assert allocated > 200 * 20  # it did allocate, many arrays per case
    assert freed == allocated
