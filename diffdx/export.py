"""Export a knowledge base for other tools: BIF, XMLBIF (via pgmpy) and a networkx graph."""

from __future__ import annotations

import os

import networkx as nx

from diffdx._atomic import atomic_open
from diffdx.kb import KnowledgeBase
from diffdx.network import build_network
from diffdx.parameters import AGE_NODE, SEX_NODE

__all__ = ["to_bif", "to_networkx", "to_xmlbif"]


def _write(text: str, path: str | os.PathLike[str] | None) -> str:
    if path is not None:
        with atomic_open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    return text


def to_bif(kb: KnowledgeBase, path: str | os.PathLike[str] | None = None) -> str:
    """Export the model's network in BIF, the interchange format of Bayesian-network tools.

    Parameters
    ----------
    kb : KnowledgeBase
    path : str or path-like, optional
        Where to write the file (atomically). If omitted, only the text is returned.

    Returns
    -------
    str
        The BIF text. Probabilities are written in full precision, so pgmpy's
        ``BIFReader`` reads back identical CPDs.

    Examples
    --------
    >>> from diffdx import load_kb
    >>> to_bif(load_kb("calf_pain")).startswith("network")
    True
    """
    from pgmpy.readwrite import BIFWriter

    return _write(str(BIFWriter(build_network(kb))), path)


def to_xmlbif(kb: KnowledgeBase, path: str | os.PathLike[str] | None = None) -> str:
    """Export the model's network in XMLBIF (read by pgmpy, Weka, GeNIe and others).

    Parameters
    ----------
    kb : KnowledgeBase
    path : str or path-like, optional
        Where to write the file (atomically). If omitted, only the text is returned.

    Returns
    -------
    str
        The XMLBIF text.

    Examples
    --------
    >>> from diffdx import load_kb
    >>> "<BIF VERSION" in to_xmlbif(load_kb("calf_pain"))
    True
    """
    from pgmpy.readwrite import XMLBIFWriter

    return _write(str(XMLBIFWriter(build_network(kb))), path)


def to_networkx(kb: KnowledgeBase) -> nx.DiGraph:
    """Return the model's structure as a networkx graph, for drawing and analysis.

    Every node has the attributes ``layer`` (``"risk_factor"``, ``"demographic"``,
    ``"cause"`` or ``"finding"``) and ``label``; causes also have ``urgency``, findings
    ``kind`` and ``red_flag``. Every edge has ``p`` (the link probability) and ``relation``
    (``"risk"``, ``"protective"`` or ``"finding"``).

    Parameters
    ----------
    kb : KnowledgeBase

    Returns
    -------
    networkx.DiGraph

    Examples
    --------
    >>> from diffdx import load_kb
    >>> g = to_networkx(load_kb("calf_pain"))
    >>> g.nodes["dvt"]["layer"], g.nodes["dvt"]["urgency"]
    ('cause', 'urgent')
    """
    graph = nx.DiGraph(name=kb.name, version=kb.version, content_hash=kb.content_hash)
    for r in kb.risk_factors:
        graph.add_node(r.id, layer="risk_factor", label=r.label)
    graph.add_node(AGE_NODE, layer="demographic", label="Age band")
    graph.add_node(SEX_NODE, layer="demographic", label="Sex")
    for c in kb.causes:
        graph.add_node(c.id, layer="cause", label=c.label, urgency=c.urgency)
    for f in kb.findings:
        graph.add_node(f.id, layer="finding", label=f.label, kind=f.kind, red_flag=f.red_flag)
    node_of = {**{b: AGE_NODE for b in kb.age_band_ids}, **{s: SEX_NODE for s in kb.sex_ids}}
    for c in kb.causes:
        for relation, links in (("risk", c.risk_links), ("protective", c.protective_links)):
            for link in links:
                parent = node_of.get(link.parent, link.parent)
                if graph.has_edge(parent, c.id):  # several weighted states of one node
                    graph.edges[parent, c.id]["states"][link.parent] = link.p
                    continue
                states = {link.parent: link.p} if parent != link.parent else None
                graph.add_edge(parent, c.id, relation=relation, p=link.p, states=states)
        for link in c.finding_links:
            graph.add_edge(c.id, link.child, relation="finding", p=link.p)
    return graph
