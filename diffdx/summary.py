"""A model's summary: what is in it and where its numbers come from."""

from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd

from diffdx.kb import URGENCY_LEVELS, KnowledgeBase

__all__ = ["ModelSummary", "model_summary"]


@dataclass(frozen=True, repr=False)
class ModelSummary:
    """Counts per layer and per source kind of a :class:`~diffdx.kb.KnowledgeBase`.

    Attributes
    ----------
    kb : KnowledgeBase
    layers : pandas.DataFrame
        One row per layer (``layer``, ``count``).
    provenance : pandas.DataFrame
        One row per source kind (``source``, ``numbers``, ``share``): how many of the
        model's numbers come from the seed articles, from the literature, or are estimates.
    """

    kb: KnowledgeBase
    layers: pd.DataFrame
    provenance: pd.DataFrame

    def __repr__(self) -> str:
        kb = self.kb
        lines = [
            f"Model {kb.name!r} v{kb.version} (hash {kb.short_hash})",
            f"{kb.title}",
            f"Population: {' '.join(kb.population.split())}",
            "",
            "Layers:",
            *(f"  {row.layer:<24} {row.count:>4}" for row in self.layers.itertuples()),
            "",
            "Where the numbers come from:",
            *(
                f"  {row.source:<24} {row.numbers:>4}  ({row.share:.0%})"
                for row in self.provenance.itertuples()
            ),
            "",
            "Research tool, not medical advice.",
        ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        kb = self.kb
        head = (
            f"<p><b>{html.escape(kb.name)}</b> v{html.escape(kb.version)} "
            f"(hash <code>{kb.short_hash}</code>): {html.escape(kb.title)}<br>"
            f"<i>Population:</i> {html.escape(kb.population)}</p>"
        )
        prov = self.provenance.to_html(index=False, formatters={"share": "{:.0%}".format}, border=0)
        foot = "<p><small>Research tool, not medical advice.</small></p>"
        return head + self.layers.to_html(index=False, border=0) + prov + foot


def model_summary(kb: KnowledgeBase) -> ModelSummary:
    """Summarise a model: counts per layer and the provenance of its numbers.

    Parameters
    ----------
    kb : KnowledgeBase

    Returns
    -------
    ModelSummary

    Examples
    --------
    >>> from diffdx import load_kb
    >>> s = model_summary(load_kb("calf_pain"))
    >>> s.provenance["source"].tolist()
    ['seed', 'literature', 'estimate']
    """
    by_urgency = {u: sum(c.urgency == u for c in kb.causes) for u in URGENCY_LEVELS}
    layers = pd.DataFrame(
        [
            ("risk factors", len(kb.risk_factors)),
            ("demographic states", len(kb.age_bands) + len(kb.sex_states)),
            ("causes", len(kb.causes)),
            *((f"  {u} causes", n) for u, n in by_urgency.items()),
            ("findings", len(kb.findings)),
            ("  red-flag findings", sum(f.red_flag for f in kb.findings)),
            ("red-flag combinations", len(kb.red_flag_combinations)),
            ("links", len(kb.links)),
            ("references", len(kb.references)),
        ],
        columns=["layer", "count"],
    )
    kinds = [param.kind for _, param in kb.parameters()]
    counts = [kinds.count(k) for k in ("seed", "literature", "estimate")]
    provenance = pd.DataFrame(
        {
            "source": ["seed", "literature", "estimate"],
            "numbers": counts,
            "share": [n / max(len(kinds), 1) for n in counts],
        }
    )
    return ModelSummary(kb=kb, layers=layers, provenance=provenance)
