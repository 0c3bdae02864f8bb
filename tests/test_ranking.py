"""rank_causes: the result object, its properties and its clinical sense."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diffdx import EvidenceError, InvalidParameterError, Ranking, explain, rank_causes
from diffdx.compiled import compile_model


def test_priors_when_nothing_observed(kb):
    r = rank_causes({})
    np.testing.assert_allclose(r.frame["posterior"], r.frame["prior"], rtol=0, atol=0)
    assert (r.frame["lift"] == 1.0).all()
    assert r.contributions.empty
    assert set(r.frame["cause"]) == set(kb.cause_ids)
    assert r.frame["posterior"].is_monotonic_decreasing


def test_frame_is_plain_and_numeric(kb):
    r = rank_causes({"calf_swelling": "yes"})
    df = r.to_frame()
    assert list(df.columns) == [
        "cause",
        "label",
        "urgency",
        "prior",
        "posterior",
        "lift",
        "action_threshold",
        "flagged",
    ]
    for col in ("prior", "posterior", "lift", "action_threshold"):
        assert df[col].dtype == np.float64
    assert df["flagged"].dtype == bool
    assert df.index.name == "rank" and list(df.index) == list(range(1, len(kb.causes) + 1))
    df.loc[1, "posterior"] = -1.0  # a copy: the result is untouched
    assert r.frame.loc[1, "posterior"] >= 0


def test_identity_and_evidence_travel_with_result(kb):
    r = rank_causes({"age": 62, "sex": "F", "fever": "no"})
    assert r.model == {"name": "calf_pain", "version": kb.version, "hash": kb.content_hash}
    assert r.evidence == {"age_band": "age_60_69", "sex": "female", "fever": "absent"}


def test_dict_kwargs_and_series_agree():
    case = {"age": 50, "sex": "M", "calf_swelling": "yes", "warmth": 1}
    a = rank_causes(case)
    b = rank_causes(**case)
    c = rank_causes(pd.Series(case))
    d = rank_causes({"age": 50, "sex": "M"}, calf_swelling=True, warmth="present")
    for other in (b, c, d):
        pd.testing.assert_frame_equal(a.frame, other.frame)


def test_same_key_twice_is_an_error():
    with pytest.raises(InvalidParameterError, match="'fever' given both"):
        rank_causes({"fever": "yes"}, fever="no")


@pytest.mark.parametrize("top", [0, -1, 2.5, "3", True])
def test_bad_top(top):
    with pytest.raises(
        InvalidParameterError,
        match=re.escape(
            f"The 'top' parameter of rank_causes must be an int >= 1 or None. Got {top!r}"
        ),
    ):
        rank_causes({}, top=top)


def test_top_keeps_flagged_urgent_causes(kb):
    case = {
        "age": 34,
        "sex": "M",
        "sudden_onset": "yes",
        "pop_heard": "yes",
        "bruising": "yes",
        "calf_swelling": "yes",
        "recent_surgery": "yes",
    }
    full = rank_causes(case)
    short = rank_causes(case, top=2)
    flagged = set(full.frame.loc[full.frame["flagged"], "cause"])
    assert flagged, "this case must flag an urgent cause"
    assert set(short.frame["cause"]) == set(full.frame["cause"].iloc[:2]) | flagged


def test_bad_case_type():
    with pytest.raises(InvalidParameterError, match="must be a dict, a pandas Series or None"):
        rank_causes(["fever"])


def test_unknown_variable_error():
    with pytest.raises(EvidenceError, match="did you mean 'positive_thompson_test'"):
        rank_causes({"positive_thomson_test": "yes"})


def test_repr_is_deterministic_and_has_no_address():
    r = rank_causes({"pop_heard": "yes"})
    text = repr(r)
    assert text == repr(rank_causes({"pop_heard": "yes"}))
    assert "0x" not in text
    assert "Triage: EMERGENCY" in text
    assert "Research tool, not medical advice." in text


def test_html_display():
    r = rank_causes({"calf_swelling": "yes", "recent_surgery": "yes"})
    html = r._repr_html_()
    assert "Triage: " in html and "not medical advice" in html
    assert html.count("<tr") == len(r.frame) + 1
    assert "width:" in html  # posterior bars


def test_explain_matches_contributions():
    case = {"pop_heard": "yes", "positive_thompson_test": "yes", "fever": "no"}
    df = explain(case, "achilles_rupture")
    assert list(df.columns) == ["variable", "value", "contribution"]
    assert set(df["variable"]) == {"pop_heard", "positive_thompson_test", "fever"}
    contrib = df.set_index("variable")["contribution"]
    assert contrib["positive_thompson_test"] > 2.0
    assert contrib["pop_heard"] > 0
    assert abs(contrib["fever"]) < 0.5
    assert df["contribution"].abs().is_monotonic_decreasing


def test_contributions_are_exact_log_odds_differences():
    case = {"calf_swelling": "yes", "age": 70}
    r = rank_causes(case)
    without = rank_causes({"age": 70})
    post = r.frame.set_index("cause")["posterior"]
    post0 = without.frame.set_index("cause")["posterior"]
    logit = np.log(post / (1 - post)) - np.log(post0 / (1 - post0))
    np.testing.assert_allclose(
        r.contributions.loc["calf_swelling"], logit[r.contributions.columns], atol=1e-12
    )


def test_explain_unknown_cause():
    with pytest.raises(EvidenceError, match="Unknown cause 'dvtt' \\(did you mean 'dvt'\\?\\)"):
        rank_causes({}).explain("dvtt")


def test_next_questions():
    r = rank_causes({"calf_swelling": "yes", "age": 60})
    q = r.next_questions(top=5)
    assert len(q) == 5
    assert list(q.columns) == [
        "variable",
        "question",
        "p_present",
        "information_bits",
        "triage_if_present",
        "triage_if_absent",
    ]
    assert q["information_bits"].is_monotonic_decreasing
    assert ((q["p_present"] > 0) & (q["p_present"] < 1)).all()
    assert "calf_swelling" not in set(q["variable"])


def test_next_question_probability_is_the_model_marginal():
    """P(finding | evidence) from log-evidence equals the average of its noisy-OR."""
    r = rank_causes({"age": 60, "sex": "F", "runner": "no"})
    q = r.next_questions(top=100).set_index("variable")
    with_f = rank_causes({"age": 60, "sex": "F", "runner": "no", "fever": "yes"})
    assert np.exp(with_f.log_evidence - r.log_evidence) == pytest.approx(
        q.loc["fever", "p_present"]
    )


def test_plot_returns_axes():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r = rank_causes({"pop_heard": "yes"})
    ax = r.plot()
    assert ax.get_xlabel() == "posterior probability"
    assert len(ax.patches) == 10
    plt.close("all")


def test_plot_without_matplotlib(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    from diffdx import MissingDependencyError

    with pytest.raises(MissingDependencyError, match=r"pip install 'diffdx\[plot\]'"):
        rank_causes({}).plot()


# -- properties ---------------------------------------------------------------------------
def _single_parent_findings(kb):
    return [
        f.id
        for f in kb.findings
        if sum(f.id in {link.child for link in c.finding_links} for c in kb.causes) == 1
    ]


def test_model_has_single_parent_findings(kb):
    assert _single_parent_findings(kb), "needed by the monotonicity property"


@settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(data=st.data())
def test_finding_linked_only_to_c_never_lowers_c(kb, data):
    findings = _single_parent_findings(kb)
    f = data.draw(st.sampled_from(findings))
    (cause,) = [c.id for c in kb.causes if f in {link.child for link in c.finding_links}]
    others = [x for x in kb.finding_ids if x != f]
    chosen = data.draw(st.lists(st.sampled_from(others), max_size=6, unique=True))
    case = {x: data.draw(st.sampled_from(["yes", "no"])) for x in chosen}
    case["age"] = data.draw(st.integers(18, 95))
    before = rank_causes(case).frame.set_index("cause")["posterior"][cause]
    after = rank_causes({**case, f: "yes"}).frame.set_index("cause")["posterior"][cause]
    assert after >= before - 1e-15


@settings(max_examples=40, deadline=None, derandomize=True)
@given(data=st.data())
def test_evidence_order_does_not_matter(data):
    items = [
        ("age", 45),
        ("sex", "F"),
        ("calf_swelling", "yes"),
        ("fever", "no"),
        ("runner", "yes"),
        ("sudden_onset", "no"),
        ("warmth", "yes"),
    ]
    shuffled = data.draw(st.permutations(items))
    a = rank_causes(dict(items)).frame
    b = rank_causes(dict(shuffled)).frame
    pd.testing.assert_frame_equal(a, b)


def test_batch_of_one_is_the_engine(kb):
    """rank_causes posteriors are the engine's posteriors on the parsed case."""
    from diffdx.evidence import parse_case

    case = {"age": 45, "calf_swelling": "yes", "warmth": "yes"}
    post, _ = compile_model(kb).engine.posteriors(parse_case(kb, case))
    frame = rank_causes(case).frame.set_index("cause")
    np.testing.assert_array_equal(frame.loc[list(kb.cause_ids), "posterior"], post[0])


def test_ranking_is_frozen():
    import dataclasses

    r = rank_causes({})
    assert isinstance(r, Ranking)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.triage = "self_care"  # type: ignore[misc]


def test_next_questions_with_top():
    full = rank_causes({"calf_swelling": "yes"}).next_questions()
    short = rank_causes({"calf_swelling": "yes"}, top=3).next_questions()
    pd.testing.assert_frame_equal(full, short)


def test_rankings_do_not_share_their_column_index():
    # The cause index is built once per model; each ranking gets its own copy.
    first, second = rank_causes({"calf_swelling": "yes"}), rank_causes({"fever": "no"})
    first.contributions.columns.name = "renamed"
    assert second.contributions.columns.name == "cause"
    assert rank_causes({}).contributions.columns.name == "cause"


def test_triage_rules_follow_the_knowledge_base(kb):
    # Triage caches each model's rules by identity: an edited copy must get its own.
    import dataclasses

    from diffdx.triage import TRIAGE_LEVELS, assess

    post = np.full((1, len(kb.causes)), 0.2)
    found = np.full((1, len(kb.findings)), -1, dtype=np.int8)
    assert TRIAGE_LEVELS[assess(kb, post, found)[0][0]] != "routine"
    lax = dataclasses.replace(
        kb, causes=tuple(dataclasses.replace(c, action_threshold=0.9) for c in kb.causes)
    )
    levels, reasons = assess(lax, post, found)
    assert TRIAGE_LEVELS[levels[0]] == "routine"
    assert "no cause reaches its action threshold" in reasons[0][0]
    assert TRIAGE_LEVELS[assess(kb, post, found)[0][0]] != "routine"
