"""The knowledge base as immutable Python objects.

A :class:`KnowledgeBase` is what :func:`diffdx.load_kb` returns after reading and validating
a model file. It is pure data: frozen dataclasses and tuples, no pgmpy. The network it
describes has three layers (risk factors and demographics -> causes -> findings); the
noisy-OR semantics of each number are described in ``docs/model-format.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Literal

__all__ = [
    "URGENCY_LEVELS",
    "AgeBand",
    "Cause",
    "Finding",
    "KnowledgeBase",
    "Link",
    "Parameter",
    "Quote",
    "RedFlagCombination",
    "Reference",
    "RiskFactor",
    "SexState",
]

#: Urgency classes, most urgent first.
URGENCY_LEVELS: tuple[str, ...] = ("emergency", "urgent", "routine", "self_care")

#: Where a number comes from.
SourceKind = Literal["seed", "literature", "estimate"]


@dataclass(frozen=True)
class Reference:
    """A bibliographic source: one of the seed articles or a published study."""

    key: str
    kind: Literal["seed", "literature"]
    citation: str
    url: str | None = None
    file: str | None = None


@dataclass(frozen=True)
class Parameter:
    """A probability with its provenance.

    ``source`` is a reference key (``kind`` is then that reference's kind) or ``"estimate"``;
    ``section`` is the part of the reference after ``#``, if any.
    """

    p: float
    source: str
    kind: SourceKind
    section: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Quote:
    """A sentence quoted from a source, supporting a cause or a red flag."""

    source: str
    quote: str
    section: str | None = None


@dataclass(frozen=True)
class AgeBand:
    """An age band: ages in ``[min_age, next band's min_age)``."""

    id: str
    min_age: int
    prior: Parameter


@dataclass(frozen=True)
class SexState:
    """One state of the ``sex`` node."""

    id: str
    prior: Parameter


@dataclass(frozen=True)
class RiskFactor:
    """A binary root node; ``prevalence`` is P(present) in the reference population."""

    id: str
    label: str
    prevalence: Parameter
    question: str | None = None


@dataclass(frozen=True)
class Finding:
    """A binary finding (symptom, sign, history item or test result)."""

    id: str
    label: str
    kind: Literal["symptom", "sign", "history", "test"]
    leak: Parameter
    question: str | None = None
    red_flag: bool = False
    red_flag_source: Quote | None = None


@dataclass(frozen=True)
class RedFlagCombination:
    """Findings that, all present together, are a red flag."""

    id: str
    all_of: tuple[str, ...]
    source: Quote


@dataclass(frozen=True)
class Link:
    """A directed link ``parent -> child`` with its probability (see the model format)."""

    parent: str
    child: str
    param: Parameter

    @property
    def p(self) -> float:
        """The link probability."""
        return self.param.p


@dataclass(frozen=True)
class Cause:
    """A cause of calf pain: a binary node, not exclusive of the others."""

    id: str
    label: str
    description: str
    urgency: str
    seed: Quote
    baseline: Parameter
    action_threshold: float
    threshold_rationale: str
    risk_links: tuple[Link, ...] = ()
    protective_links: tuple[Link, ...] = ()
    finding_links: tuple[Link, ...] = ()

    @property
    def urgent(self) -> bool:
        """Whether the cause is flagged (``emergency`` or ``urgent``)."""
        return self.urgency in ("emergency", "urgent")


@dataclass(frozen=True)
class KnowledgeBase:
    """A validated calf-pain model: what :func:`diffdx.load_kb` returns.

    Attributes
    ----------
    name, version : str
        The model's identity, together with ``content_hash``.
    content_hash : str
        SHA-256 of the canonical (sorted-key JSON) content of the file; comments and
        layout do not change it.
    population : str
        The reference population the priors refer to.
    """

    name: str
    version: str
    title: str
    population: str
    description: str
    disclaimer: str
    content_hash: str
    path: str
    references: tuple[Reference, ...]
    age_bands: tuple[AgeBand, ...]
    sex_states: tuple[SexState, ...]
    risk_factors: tuple[RiskFactor, ...]
    causes: tuple[Cause, ...]
    findings: tuple[Finding, ...]
    red_flag_combinations: tuple[RedFlagCombination, ...] = field(default=())

    def __repr__(self) -> str:
        return (
            f"<KnowledgeBase {self.name!r} v{self.version} ({self.short_hash}): "
            f"{len(self.risk_factors)} risk factors, {len(self.causes)} causes, "
            f"{len(self.findings)} findings>"
        )

    @property
    def short_hash(self) -> str:
        """The first 12 hex digits of :attr:`content_hash`."""
        return self.content_hash[:12]

    @cached_property
    def cause_ids(self) -> tuple[str, ...]:
        """Cause ids in file order."""
        return tuple(c.id for c in self.causes)

    @cached_property
    def finding_ids(self) -> tuple[str, ...]:
        """Finding ids in file order."""
        return tuple(f.id for f in self.findings)

    @cached_property
    def risk_factor_ids(self) -> tuple[str, ...]:
        """Risk factor ids in file order."""
        return tuple(r.id for r in self.risk_factors)

    @cached_property
    def age_band_ids(self) -> tuple[str, ...]:
        """Age band ids, youngest first."""
        return tuple(b.id for b in self.age_bands)

    @cached_property
    def sex_ids(self) -> tuple[str, ...]:
        """States of the ``sex`` node."""
        return tuple(s.id for s in self.sex_states)

    @cached_property
    def by_id(self) -> MappingProxyType:
        """Every node object (risk factor, cause, finding) by id."""
        items = [*self.risk_factors, *self.causes, *self.findings]
        return MappingProxyType({x.id: x for x in items})

    @cached_property
    def links(self) -> tuple[Link, ...]:
        """Every link of the network (risk, protective and finding links)."""
        return tuple(
            link
            for c in self.causes
            for link in (*c.risk_links, *c.protective_links, *c.finding_links)
        )

    def parameters(self) -> list[tuple[str, Parameter]]:
        """Every number in the model with a label saying where it is.

        Returns
        -------
        list of (str, Parameter)
            E.g. ``("causes[dvt].findings.calf_swelling", Parameter(...))``.
        """
        out: list[tuple[str, Parameter]] = []
        out += [(f"demographics.age[{b.id}].prior", b.prior) for b in self.age_bands]
        out += [(f"demographics.sex[{s.id}].prior", s.prior) for s in self.sex_states]
        out += [(f"risk_factors[{r.id}].prevalence", r.prevalence) for r in self.risk_factors]
        out += [(f"findings[{f.id}].leak", f.leak) for f in self.findings]
        for c in self.causes:
            out.append((f"causes[{c.id}].baseline", c.baseline))
            for section, links in (
                ("risk_factors", c.risk_links),
                ("protective", c.protective_links),
                ("findings", c.finding_links),
            ):
                key = "parent" if section != "findings" else "child"
                out += [
                    (f"causes[{c.id}].{section}.{getattr(link, key)}", link.param) for link in links
                ]
        return out
