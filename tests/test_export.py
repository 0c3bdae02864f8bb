"""BIF / XMLBIF round trips through pgmpy, and the networkx graph."""

from __future__ import annotations

import numpy as np
import pytest

from diffdx import to_bif, to_networkx, to_xmlbif


def _assert_same_cpds(original, reread):
    assert set(original.nodes()) == set(reread.nodes())
    assert set(original.edges()) == set(reread.edges())
    for cpd in original.get_cpds():
        other = reread.get_cpds(cpd.variable)
        assert other.state_names == cpd.state_names
        # reorder the re-read table's evidence to the original's order before comparing
        other = other.copy()
        if cpd.variables[1:]:
            other.reorder_parents(cpd.variables[1:])
        np.testing.assert_array_equal(other.get_values(), cpd.get_values())


@pytest.mark.parametrize("fmt", ["bif", "xmlbif"])
def test_round_trip_identical_cpds(tiny_kb, tiny_network, tmp_path, fmt):
    from pgmpy.readwrite import BIFReader, XMLBIFReader

    path = tmp_path / f"tiny.{fmt}"
    text = (to_bif if fmt == "bif" else to_xmlbif)(tiny_kb, path)
    assert path.read_text(encoding="utf-8") == text
    reader = BIFReader(path) if fmt == "bif" else XMLBIFReader(path)
    _assert_same_cpds(tiny_network, reader.get_model())


@pytest.mark.parametrize("fmt", ["bif", "xmlbif"])
def test_bundled_model_round_trip(kb, network, tmp_path, fmt):
    from pgmpy.readwrite import BIFReader, XMLBIFReader

    path = tmp_path / f"calf_pain.{fmt}"
    (to_bif if fmt == "bif" else to_xmlbif)(kb, path)
    reader = BIFReader(path) if fmt == "bif" else XMLBIFReader(path)
    _assert_same_cpds(network, reader.get_model())


def test_networkx_graph_attributes(tiny_kb):
    g = to_networkx(tiny_kb)
    assert g.nodes["dvt"] == {
        "layer": "cause",
        "label": "Deep vein thrombosis",
        "urgency": "urgent",
    }
    assert g.nodes["pop_heard"]["red_flag"] is True
    assert g.nodes["runner"]["layer"] == "risk_factor"
    assert g.nodes["sex"]["layer"] == "demographic"
    assert g.edges["anticoagulant_use", "dvt"]["relation"] == "protective"
    assert g.edges["sex", "calf_strain"]["states"] == {"male": 0.15}
    assert g.edges["dvt", "calf_swelling"]["p"] == 0.7
    assert g.graph["content_hash"] == tiny_kb.content_hash
    layers = {d["layer"] for _, d in g.nodes(data=True)}
    assert layers == {"risk_factor", "demographic", "cause", "finding"}
