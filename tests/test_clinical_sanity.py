"""Clinical sanity cases written from the seed articles: the model must make sense."""

from __future__ import annotations

import pytest

from diffdx import rank_causes


def _post(r, cause):
    return float(r.frame.set_index("cause").loc[cause, "posterior"])


def test_pop_and_positive_thompson_ranks_achilles_rupture_first():
    r = rank_causes(
        {
            "age": 38,
            "sex": "M",
            "sudden_onset": "yes",
            "pop_heard": "yes",
            "positive_thompson_test": "yes",
        }
    )
    assert r.frame.iloc[0]["cause"] == "achilles_rupture"
    assert r.triage == "emergency"  # a pop at injury is a red flag in the seed


def test_positive_thompson_explains_away_the_strain():
    base = {"age": 38, "sex": "M", "sudden_onset": "yes", "pop_heard": "yes"}
    without = rank_causes(base)
    with_test = rank_causes({**base, "positive_thompson_test": "yes"})
    assert _post(with_test, "calf_strain") < _post(without, "calf_strain")


def test_postoperative_swollen_warm_calf_flags_dvt():
    r = rank_causes(
        {
            "age": 58,
            "sex": "F",
            "recent_surgery": "yes",
            "calf_swelling": "yes",
            "warmth": "yes",
            "unilateral_swelling": "yes",
            "fever": "no",
        }
    )
    flagged = r.frame.set_index("cause")["flagged"]
    assert flagged["dvt"]
    assert r.triage in ("urgent", "emergency")


def test_strain_does_not_hide_the_clot():
    """A runner's sudden calf pain with DVT signs after surgery: DVT stays flagged."""
    r = rank_causes(
        {
            "age": 45,
            "runner": "yes",
            "sudden_onset": "yes",
            "sharp_pain": "yes",
            "recent_surgery": "yes",
            "calf_swelling_over_3cm": "yes",
            "tender_along_deep_veins": "yes",
            "pitting_edema": "yes",
        }
    )
    assert r.frame.set_index("cause").loc["dvt", "flagged"]
    assert any("Deep vein thrombosis" in reason for reason in r.triage_reasons)


def test_cold_pale_pulseless_leg_is_an_emergency():
    r = rank_causes(
        {
            "age": 72,
            "atrial_fibrillation": "yes",
            "cold_pale_leg": "yes",
            "absent_foot_pulses": "yes",
            "pain_at_rest": "yes",
        }
    )
    assert r.triage == "emergency"
    assert r.frame.iloc[0]["cause"] == "acute_limb_ischemia"


@pytest.mark.parametrize("finding", ["shortness_of_breath", "chest_pain"])
def test_breathlessness_or_chest_pain_with_possible_dvt_is_an_emergency(finding):
    r = rank_causes({"calf_swelling": "yes", "recent_surgery": "yes", finding: "yes"})
    assert r.triage == "emergency"


def test_red_warm_swollen_calf_is_an_emergency_via_the_combination():
    r = rank_causes({"redness": "yes", "warmth": "yes", "calf_swelling": "yes"})
    assert r.triage == "emergency"
    assert any("+" in reason for reason in r.triage_reasons)


def test_classic_claudication_in_an_old_smoker_raises_pad():
    base = {"age": 74, "sex": "M", "smoker": "yes"}
    prior = _post(rank_causes(base), "peripheral_artery_disease")
    post = _post(
        rank_causes({**base, "pain_on_walking_relieved_by_rest": "yes", "exertional_pain": "yes"}),
        "peripheral_artery_disease",
    )
    assert post > 2 * prior


def test_leaning_forward_relief_points_to_spinal_stenosis():
    r = rank_causes(
        {
            "age": 75,
            "pain_on_walking_relieved_by_rest": "yes",
            "pain_relieved_by_leaning_forward": "yes",
            "pain_radiating_from_back": "yes",
        }
    )
    assert r.frame.iloc[0]["cause"] in ("neurogenic_claudication", "sciatica")


def test_tibial_fracture_with_signs_flags_compartment_syndrome():
    r = rank_causes(
        {
            "age": 25,
            "tibial_fracture": "yes",
            "pain_out_of_proportion": "yes",
            "pain_on_passive_stretch": "yes",
            "tense_compartment": "yes",
        }
    )
    assert r.frame.iloc[0]["cause"] == "acute_compartment_syndrome"
    assert r.triage == "emergency"


def test_delayed_soreness_after_new_exercise_is_self_care():
    r = rank_causes(
        {
            "age": 30,
            "delayed_onset_24_72h": "yes",
            "dull_ache": "yes",
            "tightness": "yes",
            "new_hill_or_speed_work": "yes",
            "calf_swelling": "no",
            "sudden_onset": "no",
            "fever": "no",
            "recent_surgery": "no",
            "previous_dvt": "no",
            "active_cancer": "no",
            "pop_heard": "no",
        }
    )
    assert r.frame.iloc[0]["cause"] == "doms"
