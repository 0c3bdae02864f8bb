"""Loading and validating model files: every problem reported at once, clearly."""

from __future__ import annotations

import dataclasses
import re

import pytest

from diffdx import KnowledgeBaseError, ModelNotFoundError, load_kb
from diffdx.kb_io import parse_kb

# Each case: (id, text to replace in tiny.yaml, replacement, expected message fragment).
BROKEN = [
    (
        "duplicate-id",
        "  - id: runner\n",
        "  - id: recent_surgery\n",
        "risk_factors[recent_surgery].id (line 31): duplicate id 'recent_surgery': already "
        "declared as a risk factor at risk_factors[recent_surgery]",
    ),
    (
        "id-in-two-layers",
        "  - id: redness\n",
        "  - id: runner\n",
        "duplicate id 'runner': already declared as a risk factor",
    ),
    (
        "duplicate-key",
        "      warmth: {p: 0.8, source: estimate, note: test}\n",
        "      warmth: {p: 0.8, source: estimate, note: test}\n"
        "      warmth: {p: 0.7, source: estimate, note: test}\n",
        "duplicate key 'warmth'; it is also on line 107",
    ),
    (
        "dangling-finding",
        "      calf_swelling: {p: 0.6, source: estimate, note: test}\n",
        "      calf_sweling: {p: 0.6, source: estimate, note: test}\n",
        "causes[cellulitis].findings.calf_sweling (line 108): 'calf_sweling' is not a declared "
        "finding (did you mean 'calf_swelling'?)",
    ),
    (
        "dangling-risk-factor",
        "      runner: {p: 0.3, source: estimate, note: test}\n",
        "      runer: {p: 0.3, source: estimate, note: test}\n",
        "'runer' is not a declared risk factor or age band or sex state (did you mean 'runner'?)",
    ),
    (
        "dangling-source",
        "recent_surgery: {p: 0.15, source: wells1997, note: test}",
        "recent_surgery: {p: 0.15, source: wels1997, note: test}",
        "causes[dvt].risk_factors.recent_surgery.source (line 76): 'wels1997' is not a key of "
        "'references' nor 'estimate' (did you mean 'wells1997'?)",
    ),
    (
        "dangling-red-flag-combination",
        "all_of: [redness, warmth, calf_swelling]",
        "all_of: [redness, warmht, calf_swelling]",
        "red_flag_combinations[red_warm_swollen_calf].all_of (line 64): 'warmht' is not a "
        "declared finding (did you mean 'warmth'?)",
    ),
    (
        "probability-above-one",
        "redness: {p: 0.9, source",
        "redness: {p: 1.2, source",
        "causes[cellulitis].findings.redness.p (line 106): must be in (0, 1), exclusive; got 1.2",
    ),
    (
        "probability-zero",
        "prevalence: {p: 0.3, source",
        "prevalence: {p: 0, source",
        "risk_factors[runner].prevalence.p (line 33): must be in (0, 1), exclusive; got 0",
    ),
    (
        "probability-not-a-number",
        "leak: {p: 0.02, source: estimate, note: test}\n  - id: redness",
        "leak: {p: high, source: estimate, note: test}\n  - id: redness",
        "findings[warmth].leak.p (line 56): must be a probability in (0, 1); got str 'high'",
    ),
    (
        "link-not-above-leak",
        "pop_heard: {p: 0.3, source",
        "pop_heard: {p: 0.005, source",
        "causes[calf_strain].findings.pop_heard.p (line 96): a link probability includes the "
        "leak (0.01), so it must be greater; got 0.005",
    ),
    (
        "risk-link-not-above-baseline",
        "male: {p: 0.15, source",
        "male: {p: 0.05, source",
        "includes the baseline (0.1), so it must be greater; got 0.05",
    ),
    (
        "cycle",
        "    findings:\n      redness: {p: 0.9, source: estimate, note: test}\n",
        "    risk_factors:\n"
        "      dvt: {p: 0.2, source: estimate, note: test}\n"
        "    findings:\n"
        "      redness: {p: 0.9, source: estimate, note: test}\n"
        "      dvt: {p: 0.2, source: estimate, note: test}\n",
        "causes: the links form a cycle: dvt -> cellulitis -> dvt; a Bayesian network must be "
        "acyclic",
    ),
    (
        "too-few-findings",
        "      calf_swelling: {p: 0.4, source: estimate, note: test}\n",
        "",
        "causes[calf_strain].findings (line 94): a cause needs at least three findings; it has 2",
    ),
    (
        "unexplained-finding",
        '      pop_heard: {p: 0.3, source: "seed_causes#Gastrocnemius Strain", note: test}\n',
        "      warmth: {p: 0.3, source: estimate, note: test}\n",
        "findings[pop_heard]: no cause explains this finding",
    ),
    (
        "unused-risk-factor",
        "      runner: {p: 0.3, source: estimate, note: test}\n",
        "",
        "risk_factors[runner]: no cause uses this risk factor",
    ),
    (
        "missing-urgency",
        "    urgency: routine\n",
        "",
        "causes[calf_strain].urgency (line 84): missing",
    ),
    (
        "bad-urgency",
        "urgency: routine",
        "urgency: rutine",
        "causes[calf_strain].urgency (line 87): must be one of 'emergency', 'urgent', 'routine', "
        "'self_care'; got 'rutine' (did you mean 'routine'?)",
    ),
    (
        "misspelt-key",
        "urgency: routine",
        "urgncy: routine",
        "causes[calf_strain].urgncy (line 87): unknown key (did you mean 'urgency'?)",
    ),
    (
        "missing-source",
        "prevalence: {p: 0.3, source: estimate, note: test}",
        "prevalence: {p: 0.3, note: test}",
        "risk_factors[runner].prevalence.source (line 33): missing",
    ),
    (
        "estimate-without-note",
        "prevalence: {p: 0.3, source: estimate, note: test}",
        "prevalence: {p: 0.3, source: estimate}",
        "risk_factors[runner].prevalence.note (line 33): an estimate needs a one-line rationale",
    ),
    (
        "priors-not-summing-to-one",
        "{id: male, prior: {p: 0.5,",
        "{id: male, prior: {p: 0.4,",
        "demographics.sex (line 23): priors must sum to 1; they sum to 0.9",
    ),
    (
        "age-bands-out-of-order",
        "min_age: 50",
        "min_age: 10",
        "demographics.age[age_50_plus].min_age (line 22): bands must be in increasing order",
    ),
    (
        "reserved-id",
        "  - id: runner\n",
        "  - id: age\n",
        "'age' is reserved for case records",
    ),
    (
        "red-flag-without-source",
        '    red_flag_source: {source: "seed_causes#Serious Symptoms", quote: "Popping sound at '
        'time of injury"}\n',
        "",
        "findings[pop_heard].red_flag_source (line 47): a red flag needs its source",
    ),
    (
        "missing-threshold-rationale",
        "action_threshold: {p: 0.5, rationale: test}",
        "action_threshold: {p: 0.5}",
        "causes[calf_strain].action_threshold.rationale (line 90): missing",
    ),
    (
        "wrong-schema-version",
        "schema_version: 1",
        "schema_version: 2",
        "schema_version (line 2): must be 1; got 2",
    ),
    (
        "not-yaml",
        "title: Tiny test model",
        "title: [unclosed",
        "not valid YAML",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "expected"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN]
)
def test_broken_file_message(tiny_text, old, new, expected):
    assert old in tiny_text, "the mutation must apply to tests/data/tiny.yaml"
    text = tiny_text.replace(old, new, 1)
    with pytest.raises(KnowledgeBaseError, match=re.escape(expected)) as info:
        parse_kb(text, file="broken.yaml")
    assert str(info.value).startswith("broken.yaml has ")
    assert isinstance(info.value, ValueError)


def test_every_problem_reported_at_once(tiny_text):
    text = (
        tiny_text.replace("urgency: routine", "urgncy: routine")
        .replace("redness: {p: 0.9, source", "redness: {p: 1.2, source")
        .replace("wells1997, note", "wels1997, note", 1)
    )
    with pytest.raises(KnowledgeBaseError) as info:
        parse_kb(text, file="broken.yaml")
    err = info.value
    assert str(err).startswith("broken.yaml has 4 problems:")
    assert [p.path for p in err.problems] == [
        "causes[dvt].risk_factors.recent_surgery.source",
        "causes[calf_strain].urgncy",
        "causes[calf_strain].urgency",
        "causes[cellulitis].findings.redness.p",
    ]


def test_error_names_the_file(tmp_path, tiny_text):
    path = tmp_path / "mine.yaml"
    path.write_text(tiny_text.replace("urgency: routine", ""), encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=r"mine\.yaml has 1 problem:"):
        load_kb(path)


def test_unsafe_yaml_is_never_executed(tiny_text):
    text = tiny_text.replace(
        "title: Tiny test model", "title: !!python/object/apply:os.system ['echo x']"
    )
    with pytest.raises(KnowledgeBaseError, match="not valid YAML"):
        parse_kb(text)


def test_kb_is_immutable(tiny_kb):
    with pytest.raises(dataclasses.FrozenInstanceError):
        tiny_kb.name = "other"  # type: ignore[misc]
    assert isinstance(tiny_kb.causes, tuple)
    with pytest.raises(TypeError):
        tiny_kb.by_id["dvt"] = None  # type: ignore[index]


def test_hash_ignores_layout_but_not_content(tiny_text, tiny_kb):
    relaid = "# a comment\n" + tiny_text.replace('version: "0.0.1"', "version:   '0.0.1'")
    assert parse_kb(relaid).content_hash == tiny_kb.content_hash
    changed = tiny_text.replace("redness: {p: 0.9,", "redness: {p: 0.91,")
    assert parse_kb(changed).content_hash != tiny_kb.content_hash
    assert re.fullmatch(r"[0-9a-f]{64}", tiny_kb.content_hash)


def test_provenance_kinds(tiny_kb):
    kinds = {path: param.kind for path, param in tiny_kb.parameters()}
    assert kinds["causes[dvt].risk_factors.recent_surgery"] == "literature"
    assert kinds["causes[calf_strain].findings.sudden_onset"] == "seed"
    assert kinds["causes[dvt].baseline"] == "estimate"


def test_unknown_bundled_name():
    with pytest.raises(ModelNotFoundError, match="No bundled model named 'calf_pian'"):
        load_kb("calf_pian")


def test_missing_file(tmp_path):
    with pytest.raises(ModelNotFoundError, match="No model file at"):
        load_kb(tmp_path / "nothing.yaml")
