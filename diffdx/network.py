"""Compile a knowledge base to a pgmpy ``DiscreteBayesianNetwork``: the reference model.

pgmpy is the reference for every posterior diffdx computes, and the interchange format
(BIF, XMLBIF, see :mod:`diffdx.export`). It is imported lazily: importing pgmpy takes
seconds, and most of diffdx never needs it. Only this module and :mod:`diffdx.export`
import pgmpy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from diffdx.kb import KnowledgeBase
from diffdx.parameters import BINARY_STATES, NoisyOrParameters, noisy_or_parameters

if TYPE_CHECKING:  # pragma: no cover
    from pgmpy.models import DiscreteBayesianNetwork

__all__ = ["build_network", "reference_posteriors"]


def _product_table(logs: list[np.ndarray]) -> np.ndarray:
    """Sum per-parent log arrays over every configuration, the last parent varying fastest."""
    total = np.zeros(1)
    for log in logs:
        total = np.add.outer(total, log).ravel()
    return total


def _cause_table(params: NoisyOrParameters, c: int, parents: list[int]) -> np.ndarray:
    log_q, log_s = (
        zip(*(params.root_slot_logs(c, r) for r in parents), strict=True) if (parents) else ((), ())
    )
    log_absent = params.cause_log_leak[c] + _product_table(list(log_q))
    present = -np.expm1(log_absent) * np.exp(_product_table(list(log_s)))
    return np.vstack([1.0 - present, present])


def _finding_table(params: NoisyOrParameters, f: int, parents: list[int]) -> np.ndarray:
    logs = [np.array([0.0, params.cause_log_inhibitor[c, f]]) for c in parents]
    absent = np.exp(params.finding_log_leak[f] + _product_table(logs))
    return np.vstack([absent, 1.0 - absent])


def build_network(kb: KnowledgeBase) -> DiscreteBayesianNetwork:
    """Build the pgmpy network of a knowledge base, with state names on every CPD.

    Parameters
    ----------
    kb : KnowledgeBase
        A model from :func:`diffdx.load_kb`.

    Returns
    -------
    pgmpy.models.DiscreteBayesianNetwork
        Nodes: every risk factor, ``age_band``, ``sex``, every cause and every finding.
        Binary nodes have the states ``("absent", "present")``. ``check_model()`` passes.

    Examples
    --------
    >>> from diffdx import load_kb
    >>> net = build_network(load_kb("calf_pain"))
    >>> net.check_model(), net.get_cpds("dvt").state_names["dvt"]
    (True, ['absent', 'present'])
    """
    from pgmpy.factors.discrete import TabularCPD
    from pgmpy.models import DiscreteBayesianNetwork

    params = noisy_or_parameters(kb)
    net = DiscreteBayesianNetwork()
    net.add_nodes_from([*params.roots, *params.causes, *params.findings])
    cpds = []
    for r, name in enumerate(params.roots):
        states = list(params.root_states[r])
        prior = params.root_prior[r].reshape(-1, 1)
        cpds.append(TabularCPD(name, len(states), prior, state_names={name: states}))
    for c, name in enumerate(params.causes):
        parents = params.cause_parents(c)
        evidence = [params.roots[r] for r in parents]
        net.add_edges_from((p, name) for p in evidence)
        cpds.append(
            TabularCPD(
                name,
                2,
                _cause_table(params, c, parents),
                evidence=evidence or None,
                evidence_card=[len(params.root_states[r]) for r in parents] or None,
                state_names={
                    name: list(BINARY_STATES),
                    **{params.roots[r]: list(params.root_states[r]) for r in parents},
                },
            )
        )
    for f, name in enumerate(params.findings):
        parents = params.finding_parents(f)
        evidence = [params.causes[c] for c in parents]
        net.add_edges_from((p, name) for p in evidence)
        cpds.append(
            TabularCPD(
                name,
                2,
                _finding_table(params, f, parents),
                evidence=evidence,
                evidence_card=[2] * len(parents),
                state_names={n: list(BINARY_STATES) for n in [name, *evidence]},
            )
        )
    net.add_cpds(*cpds)
    net.check_model()
    return net


def reference_posteriors(
    network: DiscreteBayesianNetwork,
    evidence: Mapping[str, str],
    causes: list[str] | tuple[str, ...],
) -> pd.Series:
    """P(cause present | evidence) for each cause by pgmpy's exact variable elimination.

    This is the slow reference (about half a second per cause on the bundled model) that
    the fast engine is tested against; it is not used to rank cases.

    Parameters
    ----------
    network : pgmpy.models.DiscreteBayesianNetwork
        From :func:`build_network`.
    evidence : mapping of str to str
        Observed node -> state name, e.g. ``{"fever": "present", "sex": "male"}``.
    causes : sequence of str
        The causes to query.

    Returns
    -------
    pandas.Series
        Posterior probability of ``present`` for each cause, indexed by cause.
    """
    from pgmpy.inference import VariableElimination

    inference = VariableElimination(network)
    values = {}
    for cause in causes:
        factor = inference.query([cause], evidence=dict(evidence), show_progress=False)
        values[cause] = float(factor.get_value(**{cause: "present"}))
    return pd.Series(values, name="posterior", dtype=float)
