"""score_frame: every row scored like rank_causes, nothing lost, clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diffdx import ColumnsError, EvidenceError, rank_causes
from diffdx.batch import output_columns, score_frame, unique_rows
from diffdx.evidence import Evidence
from diffdx.simulate import simulate_cases


@pytest.fixture(scope="module")
def cases():
    return simulate_cases(60, seed=11)


def test_same_rows_ids_and_order(kb, cases):
    shuffled = cases.sample(frac=1.0, random_state=3).set_index(pd.Index(range(100, 160)))
    out = score_frame(shuffled, id_column="id")
    assert list(out.index) == list(shuffled.index)
    assert out["id"].tolist() == shuffled["id"].tolist()
    assert list(out.columns) == output_columns(kb, id_column="id")
    assert (out["error"] == "").all()
    p = out[[f"p_{c}" for c in kb.cause_ids]].to_numpy(dtype=float)
    assert np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all()


@settings(
    max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(seed=st.integers(0, 10_000), i=st.integers(0, 7))
def test_row_equals_rank_causes_bit_for_bit(kb, seed, i):
    df = simulate_cases(8, seed=seed, missing_findings=0.6)
    out = score_frame(df, id_column="id")
    row = df.iloc[i].drop("id")
    r = rank_causes(row)
    got = out.iloc[i][[f"p_{c}" for c in kb.cause_ids]].to_numpy(dtype=float)
    want = r.frame.set_index("cause").loc[list(kb.cause_ids), "posterior"].to_numpy()
    np.testing.assert_array_equal(got, want)
    assert out.iloc[i]["triage"] == r.triage
    assert out.iloc[i]["triage_reasons"] == "; ".join(r.triage_reasons)
    assert out.iloc[i]["cause_1"] == r.frame.iloc[0]["cause"]


def test_bad_cell_gets_its_own_error_and_others_score(kb, cases):
    df = cases.copy()
    df.loc[3, "fever"] = "maybe"
    df.loc[7, "age"] = "old"
    out = score_frame(df, id_column="id")
    assert len(out) == len(df)
    assert out.loc[3, "error"] == (
        "column 'fever': Invalid value 'maybe' for 'fever'; accepted: yes/no, true/false, "
        "1/0, present/absent (blank = unknown)."
    )
    assert out.loc[7, "error"].startswith("column 'age': Invalid value 'old' for 'age'")
    for bad in (3, 7):
        assert out.loc[bad, [f"p_{c}" for c in kb.cause_ids]].isna().all()
        assert pd.isna(out.loc[bad, "triage"])
        assert out.loc[bad, "id"] == df.loc[bad, "id"]
    good = out.drop(index=[3, 7])
    assert (good["error"] == "").all() and good["triage"].notna().all()


def test_strict_mode_fails_fast_with_row_and_column(cases):
    df = cases.copy()
    df.loc[5, "sex"] = "X"
    with pytest.raises(EvidenceError, match=r"Row 6 \(index 5\): column 'sex': Invalid value 'X'"):
        score_frame(df, id_column="id", strict=True)


def test_unknown_columns_listed_with_suggestions(cases):
    df = cases.rename(columns={"calf_swelling": "calf_sweling"}).assign(notes="free text")
    with pytest.raises(ColumnsError) as info:
        score_frame(df, id_column="id")
    msg = str(info.value)
    assert "'calf_sweling' (did you mean 'calf_swelling'?)" in msg
    assert "'notes'" in msg
    assert "Model variables not in the table (treated as unknown): 'calf_swelling'" in msg
    assert "--ignore-extra-columns" in msg


def test_ignore_extra_columns(cases):
    df = cases.assign(notes="free text")
    out = score_frame(df, id_column="id", ignore_extra_columns=True)
    ref = score_frame(cases, id_column="id")
    pd.testing.assert_frame_equal(out, ref)


def test_duplicate_column_is_an_error(cases):
    df = cases[["id", "age", "fever"]]
    df = pd.concat([df, df[["fever"]]], axis=1)
    with pytest.raises(ColumnsError, match="named more than once: 'fever'"):
        score_frame(df)


def test_missing_id_column(cases):
    with pytest.raises(ColumnsError, match="id column 'ID' is not in the table"):
        score_frame(cases, id_column="ID")


def test_identical_rows_computed_once(kb, monkeypatch, cases):
    from diffdx.compiled import compile_model

    engine = compile_model(kb).engine
    seen = []
    real = type(engine).posteriors_by_row

    def counting(self, evidence):
        seen.append(len(evidence))
        return real(self, evidence)

    monkeypatch.setattr(type(engine), "posteriors_by_row", counting)
    df = pd.concat([cases.iloc[:5]] * 40, ignore_index=True)
    out = score_frame(df, id_column="id")
    assert seen == [5]
    assert len(out) == 200
    first = out.iloc[:5, 3:].reset_index(drop=True)
    for k in range(1, 40):
        pd.testing.assert_frame_equal(out.iloc[5 * k : 5 * k + 5, 3:].reset_index(drop=True), first)


def test_empty_frame_keeps_all_columns(kb):
    out = score_frame(pd.DataFrame({"id": [], "age": []}), id_column="id")
    assert len(out) == 0
    assert list(out.columns) == output_columns(kb, id_column="id")


def test_bad_top():
    from diffdx import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="'top' parameter of score_frame"):
        score_frame(pd.DataFrame({"age": [40]}), top=-1)


def test_id_like_column_hint(cases):
    with pytest.raises(ColumnsError, match="pass id_column='id'"):
        score_frame(cases)


def test_inference_failure_is_a_row_error_not_a_crash(kb):
    """A row the engine cannot score gets an error; the rest of the table still scores."""
    import dataclasses

    from diffdx.compiled import CompiledModel, compile_model

    compiled = compile_model(kb)
    leak = compiled.engine.finding_log_leak.copy()
    leak[kb.finding_ids.index("warmth")] = -np.inf  # warmth can no longer be absent
    broken = CompiledModel(
        kb=kb,
        params=compiled.params,
        engine=dataclasses.replace(compiled.engine, finding_log_leak=leak),
    )
    df = pd.DataFrame({"id": ["a", "b", "c"], "warmth": ["no", "yes", ""]})
    out = score_frame(df, model=broken, id_column="id")
    assert out["id"].tolist() == ["a", "b", "c"]
    assert out.loc[0, "error"].startswith("inference: the evidence has probability zero")
    assert pd.isna(out.loc[0, "p_dvt"])
    assert (out.loc[1:, "error"] == "").all() and out.loc[1:, "p_dvt"].notna().all()
    with pytest.raises(EvidenceError, match="Row 1: the evidence has probability zero"):
        score_frame(df, model=broken, id_column="id", strict=True)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    rows=st.integers(0, 40),
    width=st.integers(1, 9),
    n_roots=st.integers(0, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_unique_rows_maps_every_row_to_an_equal_distinct_row(rows, width, n_roots, seed):
    """Each input row maps back to an identical distinct row, and no two distinct rows
    are equal, for any mix of -1 (unknown) and states."""
    rng = np.random.default_rng(seed)
    both = rng.integers(-1, 3, size=(rows, width + n_roots)).astype(np.int8)
    ev = Evidence(roots=both[:, :n_roots], findings=both[:, n_roots:])
    distinct, inverse = unique_rows(ev)
    rebuilt = np.hstack([distinct.roots, distinct.findings])[inverse]
    np.testing.assert_array_equal(rebuilt.reshape(both.shape), both)
    assert len({r.tobytes() for r in rebuilt}) == len(distinct.roots)
    assert len(distinct.roots) == len({r.tobytes() for r in both})
