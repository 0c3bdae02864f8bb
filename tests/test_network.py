"""The pgmpy network: structure, CPDs and posteriors against brute-force enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from diffdx.network import reference_posteriors
from tests.oracle import joint_posteriors


def test_check_model_and_state_names(tiny_network, tiny_kb):
    assert tiny_network.check_model()
    for cpd in tiny_network.get_cpds():
        assert set(cpd.state_names) == {cpd.variable, *cpd.variables[1:]}
    assert tiny_network.get_cpds("age_band").state_names["age_band"] == ["age_18_49", "age_50_plus"]
    assert tiny_network.get_cpds("sex").state_names["sex"] == ["female", "male"]
    assert tiny_network.get_cpds("dvt").state_names["dvt"] == ["absent", "present"]
    assert set(tiny_network.nodes()) == {
        *tiny_kb.risk_factor_ids,
        "age_band",
        "sex",
        *tiny_kb.cause_ids,
        *tiny_kb.finding_ids,
    }


def test_structure_is_three_layers(tiny_network):
    assert sorted(tiny_network.get_parents("dvt")) == [
        "age_band",
        "anticoagulant_use",
        "recent_surgery",
    ]
    assert sorted(tiny_network.get_parents("calf_strain")) == ["runner", "sex"]
    assert tiny_network.get_parents("cellulitis") == []
    assert sorted(tiny_network.get_parents("calf_swelling")) == ["calf_strain", "cellulitis", "dvt"]


def test_cause_cpd_is_noisy_or_with_inhibitor(tiny_network):
    cpd = tiny_network.get_cpds("dvt")
    # surgery + age 50+ + anticoagulant: [1 - (1-b)(1-w_s)(1-w_a)] * (1 - s)
    b = 0.03
    expected = (1 - (1 - b) * ((1 - 0.15) / (1 - b)) * ((1 - 0.06) / (1 - b))) * (1 - 0.6)
    got = cpd.get_value(
        dvt="present", recent_surgery="present", anticoagulant_use="present", age_band="age_50_plus"
    )
    assert got == pytest.approx(expected, rel=1e-14)
    # no active parent: the baseline
    got = cpd.get_value(
        dvt="present", recent_surgery="absent", anticoagulant_use="absent", age_band="age_18_49"
    )
    assert got == pytest.approx(b, rel=1e-14)


def test_finding_cpd_link_probability_includes_leak(tiny_network):
    cpd = tiny_network.get_cpds("calf_swelling")
    only_dvt = cpd.get_value(
        calf_swelling="present", dvt="present", calf_strain="absent", cellulitis="absent"
    )
    none = cpd.get_value(
        calf_swelling="present", dvt="absent", calf_strain="absent", cellulitis="absent"
    )
    assert only_dvt == pytest.approx(0.7, rel=1e-14)
    assert none == pytest.approx(0.05, rel=1e-14)


EVIDENCE = [
    {},
    {"calf_swelling": 1},
    {"calf_swelling": 1, "redness": 1, "warmth": 1, "recent_surgery": 1},
    {"pop_heard": 1, "sudden_onset": 1, "calf_swelling": 0, "sex": "male", "runner": 1},
    {"redness": 0, "warmth": 0, "age": "age_50_plus", "anticoagulant_use": 1},
    {f: 1 for f in ("calf_swelling", "sudden_onset", "pop_heard", "warmth", "redness")},
]


@pytest.mark.parametrize("evidence", EVIDENCE, ids=lambda e: ",".join(e) or "none")
def test_pgmpy_matches_brute_force(tiny_kb, tiny_network, evidence):
    states = {}
    for k, v in evidence.items():
        if k == "age":
            states["age_band"] = v
        elif k == "sex":
            states["sex"] = v
        else:
            states[k] = "present" if v else "absent"
    got = reference_posteriors(tiny_network, states, tiny_kb.cause_ids)
    want = joint_posteriors(tiny_kb, evidence)
    np.testing.assert_allclose(
        got.to_numpy(), [want[c] for c in tiny_kb.cause_ids], rtol=0, atol=1e-12
    )


def test_every_cpd_column_sums_to_one(tiny_network):
    for cpd in tiny_network.get_cpds():
        np.testing.assert_allclose(cpd.get_values().sum(axis=0), 1.0, atol=1e-15)
        assert (cpd.get_values() >= 0).all()


def test_bundled_network_checks(network, kb):
    assert network.check_model()
    n_nodes = len(kb.risk_factors) + 2 + len(kb.causes) + len(kb.findings)
    assert len(network.nodes()) == n_nodes
    for c in kb.causes:
        assert network.get_cpds(c.id).state_names[c.id] == ["absent", "present"]


def test_table_columns_follow_pgmpy_order(tiny_network):
    """pgmpy's last evidence variable varies fastest; spot-check every column of a CPD."""
    cpd = tiny_network.get_cpds("calf_swelling")
    parents = cpd.variables[1:]
    p = {"dvt": 0.7, "calf_strain": 0.4, "cellulitis": 0.6}
    for i, config in enumerate(itertools.product((0, 1), repeat=len(parents))):
        absent = 0.95
        for name, on in zip(parents, config, strict=True):
            if on:
                absent *= (1 - p[name]) / 0.95
        assert cpd.get_values()[1, i] == pytest.approx(1 - absent, rel=1e-13)
