"""Parsing case values: every accepted spelling, every error message."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diffdx import EvidenceError
from diffdx.evidence import parse_case, parse_value

PRESENT = ["yes", "y", "present", "true", "1", "positive"]
ABSENT = ["no", "n", "absent", "false", "0", "negative"]


def _respell(word: str, data) -> str:
    cased = "".join(data.draw(st.sampled_from([c.lower(), c.upper()])) for c in word)
    pad = data.draw(st.sampled_from(["", " ", "  ", "\t"]))
    return pad + cased + data.draw(st.sampled_from(["", " ", "\n"]))


@settings(max_examples=200, derandomize=True)
@given(data=st.data())
def test_spellings_case_and_whitespace_insensitive(data):
    word = data.draw(st.sampled_from(PRESENT + ABSENT))
    expected = 1 if word in PRESENT else 0
    assert parse_value("fever", _respell(word, data)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, 1),
        (False, 0),
        (1, 1),
        (0, 0),
        (1.0, 1),
        (0.0, 0),
        (np.int64(1), 1),
        (np.bool_(False), 0),
        (None, -1),
        (float("nan"), -1),
        (pd.NA, -1),
        ("", -1),
        ("  ", -1),
        (np.nan, -1),
    ],
)
def test_values(value, expected):
    assert parse_value("fever", value) == expected


@pytest.mark.parametrize("value", ["maybe", 7, 2.5, "yes please", -1, [1], "oui"])
def test_invalid_value_names_variable_and_accepted_values(value):
    with pytest.raises(
        EvidenceError,
        match=r"Invalid value .* for 'fever'; accepted: yes/no, "
        r"true/false, 1/0, present/absent \(blank = unknown\)\.",
    ):
        parse_value("fever", value)


@settings(max_examples=200, derandomize=True)
@given(value=st.one_of(st.text(), st.integers(), st.floats(), st.booleans(), st.none()))
def test_parse_value_never_crashes_differently(value):
    """Any input either parses to -1/0/1 or raises EvidenceError; nothing else escapes."""
    try:
        out = parse_value("fever", value)
    except EvidenceError:
        return
    assert out in (-1, 0, 1)


def test_unknown_name_suggests_closest(kb):
    with pytest.raises(
        EvidenceError,
        match="Unknown variable 'calf_sweling' in case "
        r"\(model 'calf_pain'\) \(did you mean 'calf_swelling'\?\)",
    ):
        parse_case(kb, {"calf_sweling": "yes"})


def test_cause_as_input_is_explained(kb):
    with pytest.raises(EvidenceError, match="'dvt' is a cause, which diffdx infers"):
        parse_case(kb, {"dvt": "yes"})


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (18, "age_18_39"),
        (39.9, "age_18_39"),
        ("40", "age_40_59"),
        (65, "age_60_69"),
        (79, "age_70_79"),
        (80, "age_80_plus"),
        (104, "age_80_plus"),
    ],
)
def test_age_bands(kb, age, band):
    ev = parse_case(kb, {"age": age})
    assert kb.age_band_ids[ev.roots[0, len(kb.risk_factors)]] == band


@pytest.mark.parametrize(
    ("age", "message"),
    [
        (12, "below the model's population"),
        (-3, "give the age in years"),
        ("old", "give the age in years"),
        (250, "0-120"),
        (True, "give the age in years"),
        (math.inf, "0-120"),
    ],
)
def test_bad_age(kb, age, message):
    with pytest.raises(EvidenceError, match=message):
        parse_case(kb, {"age": age})


@pytest.mark.parametrize(
    ("sex", "state"), [("F", "female"), ("m", "male"), (" Female ", "female"), ("MALE", "male")]
)
def test_sex(kb, sex, state):
    ev = parse_case(kb, {"sex": sex})
    assert kb.sex_ids[ev.roots[0, -1]] == state


@pytest.mark.parametrize("sex", ["x", "unknown", 1, "Mr"])
def test_bad_sex(kb, sex):
    with pytest.raises(EvidenceError, match=r"Invalid value .* for 'sex'; accepted: F/M"):
        parse_case(kb, {"sex": sex})


def test_missing_means_unknown(kb):
    ev = parse_case(kb, {"fever": None, "runner": "", "age": np.nan, "sex": None})
    assert (ev.roots == -1).all() and (ev.findings == -1).all()
