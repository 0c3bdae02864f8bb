"""Invariants every shipped model must satisfy (like sklearn's parametrize_with_checks)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from diffdx import load_kb, model_summary, rank_causes

MODELS = sorted((Path(__file__).resolve().parent.parent / "models").glob("*.yaml"))


def test_models_are_shipped():
    assert [p.stem for p in MODELS] == ["calf_pain"]


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_shipped_model_invariants(path):
    kb = load_kb(path)
    # every number sourced, every estimate justified
    for where, param in kb.parameters():
        assert 0 < param.p < 1, where
        assert param.kind in ("seed", "literature", "estimate"), where
        if param.kind == "estimate":
            assert param.note, where
    # every cause documented, with at least three findings and a threshold
    for cause in kb.causes:
        assert cause.label and cause.description and cause.seed.quote
        assert len(cause.finding_links) >= 3
        assert 0 < cause.action_threshold < 1 and cause.threshold_rationale
    # priors (nothing observed) are the engine's posteriors with no evidence
    r = rank_causes({}, model=kb)
    assert r.frame["posterior"].between(0, 1).all()
    np.testing.assert_array_equal(r.frame["posterior"], r.frame["prior"])
    assert kb.population.strip() and "not medical advice" in kb.disclaimer.lower()


def test_bundled_model_content(kb):
    required_causes = {
        "muscle_cramp",
        "calf_strain",
        "plantaris_rupture",
        "achilles_tendinopathy",
        "achilles_rupture",
        "contusion_hematoma",
        "dvt",
        "peripheral_artery_disease",
        "acute_limb_ischemia",
        "popliteal_artery_entrapment",
        "neurogenic_claudication",
        "sciatica",
        "bakers_cyst_rupture",
        "acute_compartment_syndrome",
        "chronic_exertional_compartment_syndrome",
        "shin_splints",
        "tibial_stress_fracture",
        "diabetic_neuropathy",
        "cellulitis",
        "varicose_veins",
        "superficial_thrombophlebitis",
        "plantar_fasciitis",
        "ankle_knee_tendinitis",
        "doms",
    }
    assert required_causes <= set(kb.cause_ids)
    urgency = {c.id: c.urgency for c in kb.causes}
    assert urgency["acute_compartment_syndrome"] == "emergency"
    assert urgency["acute_limb_ischemia"] == "emergency"
    for cause in ("dvt", "achilles_rupture", "cellulitis"):
        assert urgency[cause] in ("emergency", "urgent")
    red = {f.id for f in kb.findings if f.red_flag}
    seed_items = {
        "confusion",
        "cold_pale_leg",
        "shortness_of_breath",
        "high_fever",
        "cannot_bear_weight",
        "persistent_pain_after_exertion",
        "cyanosis",
        "pop_heard",
        "red_streaks",
        "weakness",
    }
    assert seed_items <= red
    assert {("redness", "warmth", "calf_swelling")} == {
        tuple(c.all_of) for c in kb.red_flag_combinations
    }
    for f in kb.findings:
        if f.red_flag:
            assert f.red_flag_source.quote


def test_literature_numbers_are_used(kb):
    counts = model_summary(kb).provenance.set_index("source")["numbers"]
    assert counts["literature"] >= 50 and counts["seed"] >= 50


def test_thompson_test_sensitivity_from_maffulli(kb):
    (link,) = [
        link
        for c in kb.causes
        if c.id == "achilles_rupture"
        for link in c.finding_links
        if link.child == "positive_thompson_test"
    ]
    assert link.p == pytest.approx(0.96)
    assert link.param.source == "maffulli1998"
