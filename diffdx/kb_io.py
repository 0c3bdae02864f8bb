"""Load a model file into a validated :class:`~diffdx.kb.KnowledgeBase`.

:func:`load_kb` reads YAML safely (see :mod:`diffdx._yaml`), checks *everything* and
raises one :class:`~diffdx.exceptions.KnowledgeBaseError` listing every problem, each with
its key path, line and, for misspelt ids and keys, a "did you mean" suggestion. Only a file
with no problem becomes a ``KnowledgeBase``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import networkx as nx
import yaml

from diffdx._yaml import LineDict, LineList, read_yaml
from diffdx.datasets import model_path
from diffdx.exceptions import KnowledgeBaseError, Problem
from diffdx.kb import (
    URGENCY_LEVELS,
    AgeBand,
    Cause,
    Finding,
    KnowledgeBase,
    Link,
    Parameter,
    Quote,
    RedFlagCombination,
    Reference,
    RiskFactor,
    SexState,
)

__all__ = ["load_kb"]

SCHEMA_VERSION = 1
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
#: Names that case records use for demographics, so no node may take them.
RESERVED_IDS = frozenset({"age", "sex", "age_band", "id", "estimate"})
FINDING_KINDS = ("symptom", "sign", "history", "test")
REFERENCE_KINDS = ("seed", "literature")
_TOP_KEYS = {
    "schema_version": True,
    "name": True,
    "version": True,
    "title": True,
    "population": True,
    "description": False,
    "disclaimer": True,
    "references": True,
    "demographics": True,
    "risk_factors": True,
    "findings": True,
    "red_flag_combinations": False,
    "causes": True,
}


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest candidate, or ``""``.

    Examples
    --------
    >>> did_you_mean("calf_sweling", ["calf_swelling", "fever"])
    " (did you mean 'calf_swelling'?)"
    """
    match = difflib.get_close_matches(str(word), list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def load_kb(name_or_path: str | os.PathLike[str] = "calf_pain") -> KnowledgeBase:
    """Load and validate a model: a bundled model's name or a path to a YAML file.

    Parameters
    ----------
    name_or_path : str or path-like, default="calf_pain"
        ``"calf_pain"`` (a model bundled with diffdx) or the path of a ``.yaml`` file.

    Returns
    -------
    KnowledgeBase
        The immutable, validated model.

    Raises
    ------
    ModelNotFoundError
        If no bundled model has that name and no file has that path.
    KnowledgeBaseError
        If the file is invalid; the message lists every problem at once.

    Examples
    --------
    >>> kb = load_kb("calf_pain")
    >>> kb.name, len(kb.causes) >= 24
    ('calf_pain', True)
    """
    path = model_path(name_or_path)
    text = path.read_text(encoding="utf-8")
    return parse_kb(text, file=_display_path(path))


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def parse_kb(text: str, *, file: str = "<string>") -> KnowledgeBase:
    """Validate model-file text and build the :class:`KnowledgeBase`.

    Parameters
    ----------
    text : str
        The YAML text of a model file.
    file : str, default="<string>"
        Name used in error messages.

    Returns
    -------
    KnowledgeBase

    Raises
    ------
    KnowledgeBaseError
        Listing every problem found.
    """
    try:
        data, duplicates = read_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise KnowledgeBaseError(
            file, [Problem("(file)", f"not valid YAML: {exc}", line)]
        ) from None
    checker = _Checker(file, duplicates)
    kb = checker.build(data)
    if checker.problems or kb is None:
        raise KnowledgeBaseError(file, checker.problems)
    return kb


def content_hash(data: Any) -> str:
    """SHA-256 of the canonical JSON form of parsed model data (key order and layout ignored)."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class _Checker:
    """Walks the parsed YAML, building objects and collecting every problem."""

    def __init__(self, file: str, problems: list[Problem]):
        self.file = file
        self.problems: list[Problem] = list(problems)
        self.reference_kinds: dict[str, str] = {}

    # -- helpers -------------------------------------------------------------------------
    def problem(self, path: str, message: str, line: int | None = None) -> None:
        self.problems.append(Problem(path, message, line))

    def mapping(
        self,
        value: Any,
        path: str,
        keys: dict[str, bool],
        line: int | None = None,
    ) -> dict[str, Any] | None:
        """Check ``value`` is a mapping with the given keys (name -> required)."""
        if not isinstance(value, dict):
            self.problem(path, f"must be a mapping; got {_describe(value)}", line)
            return None
        lines = getattr(value, "lines", {})
        for key in value:
            if key not in keys:
                hint = did_you_mean(key, keys)
                self.problem(f"{path}.{key}", f"unknown key{hint}", lines.get(key))
        for key, required in keys.items():
            if required and key not in value:
                self.problem(f"{path}.{key}", "missing", getattr(value, "line", line))
        return value

    def string(self, obj: dict[str, Any], key: str, path: str) -> str | None:
        value = obj.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(
                f"{path}.{key}", f"must be non-empty text; got {_describe(value)}", _line(obj, key)
            )
            return None
        return value.strip()

    def probability(self, value: Any, path: str, line: int | None) -> float | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.problem(path, f"must be a probability in (0, 1); got {_describe(value)}", line)
            return None
        if not (0.0 < float(value) < 1.0) or math.isnan(value):
            self.problem(path, f"must be in (0, 1), exclusive; got {value}", line)
            return None
        return float(value)

    def source(self, value: Any, path: str, line: int | None) -> tuple[str, str | None] | None:
        if not isinstance(value, str) or not value.strip():
            self.problem(path, f"missing source; got {_describe(value)}", line)
            return None
        key, _, section = value.strip().partition("#")
        key = key.strip()
        if key != "estimate" and key not in self.reference_kinds:
            hint = did_you_mean(key, [*self.reference_kinds, "estimate"])
            self.problem(path, f"{key!r} is not a key of 'references' nor 'estimate'{hint}", line)
            return None
        return key, section.strip() or None

    def parameter(self, value: Any, path: str, line: int | None = None) -> Parameter | None:
        obj = self.mapping(value, path, {"p": True, "source": True, "note": False}, line)
        if obj is None:
            return None
        p = self.probability(obj.get("p"), f"{path}.p", _line(obj, "p")) if "p" in obj else None
        src = (
            self.source(obj["source"], f"{path}.source", _line(obj, "source"))
            if ("source" in obj)
            else None
        )
        note = self.string(obj, "note", path)
        if src is not None and src[0] == "estimate" and note is None:
            self.problem(
                f"{path}.note",
                "an estimate needs a one-line rationale in 'note'",
                getattr(obj, "line", line),
            )
        if p is None or src is None:
            return None
        kind = "estimate" if src[0] == "estimate" else self.reference_kinds[src[0]]
        return Parameter(p=p, source=src[0], kind=kind, section=src[1], note=note)  # type: ignore[arg-type]

    def quote(self, value: Any, path: str, line: int | None = None) -> Quote | None:
        obj = self.mapping(value, path, {"source": True, "quote": True}, line)
        if obj is None:
            return None
        src = (
            self.source(obj.get("source"), f"{path}.source", _line(obj, "source"))
            if ("source" in obj)
            else None
        )
        text = self.string(obj, "quote", path)
        if src is None or text is None:
            return None
        return Quote(source=src[0], quote=text, section=src[1])

    def items(self, data: dict[str, Any], key: str) -> list[tuple[str, dict[str, Any], int | None]]:
        """Return the entries of a list, each with a readable path and its line."""
        seq = data.get(key)
        if seq is None:
            return []
        if not isinstance(seq, list):
            self.problem(key, f"must be a list; got {_describe(seq)}", _line(data, key))
            return []
        out = []
        for i, item in enumerate(seq):
            line = seq.lines[i] if isinstance(seq, LineList) else None
            ident = item.get("id") if isinstance(item, dict) else None
            path = f"{key}[{ident}]" if isinstance(ident, str) else f"{key}[{i}]"
            if not isinstance(item, dict):
                self.problem(path, f"must be a mapping; got {_describe(item)}", line)
                continue
            out.append((path, item, line))
        return out

    # -- the whole file ------------------------------------------------------------------
    def build(self, data: Any) -> KnowledgeBase | None:
        top = self.mapping(data, "(top level)", _TOP_KEYS)
        if top is None:
            return None
        if top.get("schema_version") != SCHEMA_VERSION and "schema_version" in top:
            self.problem(
                "schema_version",
                f"must be {SCHEMA_VERSION}; got {top.get('schema_version')!r}",
                _line(top, "schema_version"),
            )
        name = self.string(top, "name", "(top level)")
        if name is not None and not ID_PATTERN.match(name):
            self.problem("name", f"must be lower_snake_case; got {name!r}", _line(top, "name"))
        version = top.get("version")
        if "version" in top and not isinstance(version, str):
            self.problem(
                "version",
                f'must be quoted text such as "0.1.0"; got {version!r}',
                _line(top, "version"),
            )
        texts = {
            k: self.string(top, k, "(top level)")
            for k in ("title", "population", "description", "disclaimer")
        }

        references = self.references(top)
        ages, sexes = self.demographics(top)
        declared = self.declare_ids(top, ages, sexes)
        risk_factors = self.risk_factors(top)
        findings = self.findings(top)
        combos = self.red_flag_combinations(top, declared)
        causes = self.causes(top, declared, findings)
        self.check_usage(declared, top)
        self.check_cycles(top)

        if self.problems:
            return None
        return KnowledgeBase(
            name=name or "",
            version=str(version),
            title=texts["title"] or "",
            population=texts["population"] or "",
            description=texts["description"] or "",
            disclaimer=texts["disclaimer"] or "",
            content_hash=content_hash(data),
            path=self.file,
            references=references,
            age_bands=ages,
            sex_states=sexes,
            risk_factors=risk_factors,
            causes=causes,
            findings=tuple(findings.values()),
            red_flag_combinations=combos,
        )

    # -- sections ------------------------------------------------------------------------
    def references(self, top: dict[str, Any]) -> tuple[Reference, ...]:
        refs = top.get("references")
        if refs is None:
            return ()
        if not isinstance(refs, dict):
            self.problem(
                "references", f"must be a mapping; got {_describe(refs)}", _line(top, "references")
            )
            return ()
        keys = {"kind": True, "citation": True, "url": False, "file": False}
        out = []
        for key, value in refs.items():
            path = f"references.{key}"
            if not isinstance(key, str) or not ID_PATTERN.match(key) or key == "estimate":
                self.problem(
                    path,
                    "a reference key must be lower_snake_case and not 'estimate'",
                    _line(refs, key),
                )
                continue
            obj = self.mapping(value, path, keys, _line(refs, key))
            if obj is None:
                continue
            kind = obj.get("kind")
            if kind not in REFERENCE_KINDS:
                self.problem(
                    f"{path}.kind",
                    f"must be one of {_quoted(REFERENCE_KINDS)}; got {kind!r}",
                    _line(obj, "kind"),
                )
                continue
            if kind == "seed" and "file" not in obj:
                self.problem(
                    f"{path}.file",
                    "a seed reference must name its file",
                    getattr(obj, "line", None),
                )
            citation = self.string(obj, "citation", path)
            self.reference_kinds[key] = kind
            out.append(
                Reference(
                    key=key,
                    kind=kind,
                    citation=citation or "",
                    url=self.string(obj, "url", path),
                    file=self.string(obj, "file", path),
                )
            )
        return tuple(out)

    def demographics(self, top: dict[str, Any]) -> tuple[tuple[AgeBand, ...], tuple[SexState, ...]]:
        demo = self.mapping(
            top.get("demographics", {}),
            "demographics",
            {"age": True, "sex": True},
            _line(top, "demographics"),
        )
        if demo is None or "demographics" not in top:
            return (), ()
        ages: list[AgeBand] = []
        for path, item, line in self.items(demo, "age"):
            path = f"demographics.{path}"
            obj = self.mapping(item, path, {"id": True, "min_age": True, "prior": True}, line)
            if obj is None:
                continue
            min_age = obj.get("min_age")
            if isinstance(min_age, bool) or not isinstance(min_age, int) or min_age < 0:
                self.problem(
                    f"{path}.min_age",
                    f"must be a whole number of years >= 0; got {min_age!r}",
                    _line(obj, "min_age"),
                )
                continue
            if ages and min_age <= ages[-1].min_age:
                self.problem(
                    f"{path}.min_age",
                    f"bands must be in increasing order; {min_age} is not above {ages[-1].min_age}",
                    _line(obj, "min_age"),
                )
            prior = self.parameter(obj.get("prior"), f"{path}.prior", _line(obj, "prior"))
            if prior is not None and isinstance(obj.get("id"), str):
                ages.append(AgeBand(id=obj["id"], min_age=min_age, prior=prior))
        sexes: list[SexState] = []
        for path, item, line in self.items(demo, "sex"):
            path = f"demographics.{path}"
            obj = self.mapping(item, path, {"id": True, "prior": True}, line)
            if obj is None:
                continue
            prior = self.parameter(obj.get("prior"), f"{path}.prior", _line(obj, "prior"))
            if prior is not None and isinstance(obj.get("id"), str):
                sexes.append(SexState(id=obj["id"], prior=prior))
        for what, states in (("age", ages), ("sex", sexes)):
            total = sum(s.prior.p for s in states)
            if states and abs(total - 1.0) > 1e-9:
                self.problem(
                    f"demographics.{what}",
                    f"priors must sum to 1; they sum to {total:.12g}",
                    _line(demo, what),
                )
            if what in demo and len(demo[what] or []) < 2:
                self.problem(f"demographics.{what}", "needs at least two states", _line(demo, what))
        return tuple(ages), tuple(sexes)

    def declare_ids(self, top: dict[str, Any], ages, sexes) -> dict[str, str]:
        """Map every declared id to its layer; report bad and duplicate ids."""
        declared: dict[str, str] = {}
        demo = top.get("demographics") if isinstance(top.get("demographics"), dict) else {}
        sources = [
            ("age band", [(f"demographics.{p}", i, ln) for p, i, ln in self.items(demo, "age")]),
            ("sex state", [(f"demographics.{p}", i, ln) for p, i, ln in self.items(demo, "sex")]),
            ("risk factor", self.items(top, "risk_factors")),
            ("finding", self.items(top, "findings")),
            ("cause", self.items(top, "causes")),
            ("red flag combination", self.items(top, "red_flag_combinations")),
        ]
        first_path: dict[str, str] = {}
        for layer, entries in sources:
            for path, item, line in entries:
                ident = item.get("id")
                if ident is None:
                    self.problem(f"{path}.id", "missing", line)
                    continue
                if not isinstance(ident, str) or not ID_PATTERN.match(ident):
                    self.problem(
                        f"{path}.id",
                        f"must be lower_snake_case (a-z, 0-9, _); got {ident!r}",
                        _line(item, "id"),
                    )
                    continue
                if ident in RESERVED_IDS:
                    self.problem(
                        f"{path}.id",
                        f"{ident!r} is reserved for case records; choose another id",
                        _line(item, "id"),
                    )
                    continue
                if ident in declared:
                    self.problem(
                        f"{path}.id",
                        f"duplicate id {ident!r}: already declared as a "
                        f"{declared[ident]} at {first_path[ident]}",
                        _line(item, "id"),
                    )
                    continue
                declared[ident] = layer
                first_path[ident] = path
        return declared

    def risk_factors(self, top: dict[str, Any]) -> tuple[RiskFactor, ...]:
        keys = {"id": True, "label": True, "prevalence": True, "question": False}
        out = []
        for path, item, line in self.items(top, "risk_factors"):
            obj = self.mapping(item, path, keys, line)
            if obj is None:
                continue
            prev = self.parameter(
                obj.get("prevalence"), f"{path}.prevalence", _line(obj, "prevalence")
            )
            label = self.string(obj, "label", path)
            if prev is not None and label is not None and isinstance(obj.get("id"), str):
                out.append(
                    RiskFactor(
                        id=obj["id"],
                        label=label,
                        prevalence=prev,
                        question=self.string(obj, "question", path),
                    )
                )
        return tuple(_unique(out))

    def findings(self, top: dict[str, Any]) -> dict[str, Finding]:
        keys = {
            "id": True,
            "label": True,
            "kind": True,
            "leak": True,
            "question": False,
            "red_flag": False,
            "red_flag_source": False,
        }
        out: dict[str, Finding] = {}
        for path, item, line in self.items(top, "findings"):
            obj = self.mapping(item, path, keys, line)
            if obj is None:
                continue
            kind = obj.get("kind")
            if "kind" in obj and kind not in FINDING_KINDS:
                self.problem(
                    f"{path}.kind",
                    f"must be one of {_quoted(FINDING_KINDS)}; got "
                    f"{kind!r}{did_you_mean(kind, FINDING_KINDS)}",
                    _line(obj, "kind"),
                )
            red_flag = obj.get("red_flag", False)
            if not isinstance(red_flag, bool):
                self.problem(
                    f"{path}.red_flag",
                    f"must be true or false; got {red_flag!r}",
                    _line(obj, "red_flag"),
                )
                red_flag = False
            quote = None
            if red_flag and "red_flag_source" not in obj:
                self.problem(
                    f"{path}.red_flag_source", "a red flag needs its source {source, quote}", line
                )
            elif "red_flag_source" in obj:
                quote = self.quote(
                    obj["red_flag_source"], f"{path}.red_flag_source", _line(obj, "red_flag_source")
                )
            leak = self.parameter(obj.get("leak"), f"{path}.leak", _line(obj, "leak"))
            label = self.string(obj, "label", path)
            ident = obj.get("id")
            if (
                leak is not None
                and label is not None
                and isinstance(ident, str)
                and (kind in FINDING_KINDS)
                and ident not in out
            ):
                out[ident] = Finding(
                    id=ident,
                    label=label,
                    kind=kind,
                    leak=leak,
                    question=self.string(obj, "question", path),
                    red_flag=red_flag,
                    red_flag_source=quote,
                )
        return out

    def red_flag_combinations(self, top, declared) -> tuple[RedFlagCombination, ...]:
        keys = {"id": True, "all_of": True, "source": True}
        out = []
        for path, item, line in self.items(top, "red_flag_combinations"):
            obj = self.mapping(item, path, keys, line)
            if obj is None:
                continue
            members = obj.get("all_of")
            if not isinstance(members, list) or len(members) < 2:
                self.problem(
                    f"{path}.all_of", "must list at least two finding ids", _line(obj, "all_of")
                )
                continue
            ok = True
            for m in members:
                if declared.get(m) != "finding":
                    ok = False
                    self.problem(
                        f"{path}.all_of",
                        self._not_a(m, ("finding",), declared),
                        _line(obj, "all_of"),
                    )
            quote = self.quote(obj.get("source"), f"{path}.source", _line(obj, "source"))
            if ok and quote is not None and isinstance(obj.get("id"), str):
                out.append(RedFlagCombination(id=obj["id"], all_of=tuple(members), source=quote))
        return tuple(out)

    def causes(self, top, declared, findings: dict[str, Finding]) -> tuple[Cause, ...]:
        keys = {
            "id": True,
            "label": True,
            "description": True,
            "urgency": True,
            "seed": True,
            "baseline": True,
            "action_threshold": True,
            "risk_factors": False,
            "protective": False,
            "findings": True,
        }
        out = []
        for path, item, line in self.items(top, "causes"):
            obj = self.mapping(item, path, keys, line)
            if obj is None:
                continue
            ident = obj.get("id")
            urgency = obj.get("urgency")
            if "urgency" in obj and urgency not in URGENCY_LEVELS:
                self.problem(
                    f"{path}.urgency",
                    f"must be one of {_quoted(URGENCY_LEVELS)}; got "
                    f"{urgency!r}{did_you_mean(urgency, URGENCY_LEVELS)}",
                    _line(obj, "urgency"),
                )
            seed = self.quote(obj.get("seed"), f"{path}.seed", _line(obj, "seed"))
            baseline = self.parameter(
                obj.get("baseline"), f"{path}.baseline", _line(obj, "baseline")
            )
            threshold, rationale = self.threshold(obj, path)
            risk = self.links(
                obj,
                "risk_factors",
                path,
                ident,
                declared,
                ("risk factor", "age band", "sex state"),
                floor=baseline.p if baseline else None,
                floor_name="baseline",
            )
            protective = self.links(obj, "protective", path, ident, declared, ("risk factor",))
            finding_links = self.links(
                obj,
                "findings",
                path,
                ident,
                declared,
                ("finding",),
                floor_of=lambda f: findings[f].leak.p if f in findings else None,
                floor_name="leak",
            )
            if (
                "findings" in obj
                and isinstance(obj["findings"], dict)
                and (len(obj["findings"]) < 3)
            ):
                self.problem(
                    f"{path}.findings",
                    f"a cause needs at least three findings; it has {len(obj['findings'])}",
                    _line(obj, "findings"),
                )
            if (
                isinstance(ident, str)
                and urgency in URGENCY_LEVELS
                and None not in (seed, baseline, threshold, risk, protective, finding_links)
            ):
                out.append(
                    Cause(
                        id=ident,
                        label=self.string(obj, "label", path) or "",
                        description=self.string(obj, "description", path) or "",
                        urgency=urgency,
                        seed=seed,
                        baseline=baseline,  # type: ignore[arg-type]
                        action_threshold=threshold,
                        threshold_rationale=rationale,  # type: ignore[arg-type]
                        risk_links=risk,
                        protective_links=protective,  # type: ignore[arg-type]
                        finding_links=finding_links,  # type: ignore[arg-type]
                    )
                )
        return tuple(_unique(out))

    def threshold(self, obj, path) -> tuple[float | None, str | None]:
        value = self.mapping(
            obj.get("action_threshold"),
            f"{path}.action_threshold",
            {"p": True, "rationale": True},
            _line(obj, "action_threshold"),
        )
        if value is None or "action_threshold" not in obj:
            return None, None
        p = self.probability(value.get("p"), f"{path}.action_threshold.p", _line(value, "p"))
        rationale = self.string(value, "rationale", f"{path}.action_threshold")
        return (p, rationale) if rationale else (None, None)

    def links(
        self,
        obj,
        section,
        path,
        cause_id,
        declared,
        layers,
        *,
        floor=None,
        floor_of: Callable[[str], float | None] | None = None,
        floor_name="",
    ):
        """Parse one of a cause's link mappings; ``None`` if anything in it is wrong."""
        value = obj.get(section)
        if value is None:
            return ()
        if not isinstance(value, dict):
            self.problem(
                f"{path}.{section}",
                f"must be a mapping of id to {{p, source}}; got {_describe(value)}",
                _line(obj, section),
            )
            return None
        out, ok = [], True
        for target, spec in value.items():
            tpath = f"{path}.{section}.{target}"
            line = _line(value, target)
            if declared.get(target) not in layers:
                self.problem(tpath, self._not_a(target, layers, declared), line)
                ok = False
                continue
            param = self.parameter(spec, tpath, line)
            if param is None:
                ok = False
                continue
            limit = floor_of(target) if floor_of else floor
            if limit is not None and param.p <= limit:
                self.problem(
                    f"{tpath}.p",
                    f"a link probability includes the {floor_name} "
                    f"({limit}), so it must be greater; got {param.p}",
                    line,
                )
                ok = False
                continue
            if section == "findings":
                out.append(Link(parent=cause_id, child=target, param=param))
            else:
                out.append(Link(parent=target, child=cause_id, param=param))
        return tuple(out) if ok else None

    @staticmethod
    def _not_a(name: Any, layers: tuple[str, ...], declared: dict[str, str]) -> str:
        wanted = " or ".join(layers)
        layer = declared.get(name)
        if layer is not None:
            return f"{name!r} is a {layer}, not a {wanted}"
        pool = [k for k, v in declared.items() if v in layers]
        return f"{name!r} is not a declared {wanted}{did_you_mean(name, pool)}"

    def raw_edges(self, top: dict[str, Any]) -> list[tuple[str, str, str]]:
        """Return every link written in the file as ``(parent, child, section)``, parsed or not."""
        edges = []
        for _path, item, _line_no in self.items(top, "causes"):
            ident = item.get("id")
            if not isinstance(ident, str):
                continue
            for section in ("risk_factors", "protective", "findings"):
                targets = item.get(section)
                if not isinstance(targets, dict):
                    continue
                for t in map(str, targets):
                    edges.append(
                        (ident, t, section) if section == "findings" else (t, ident, section)
                    )
        return edges

    def check_usage(self, declared: dict[str, str], top: dict[str, Any]) -> None:
        edges = self.raw_edges(top)
        used = {parent for parent, _, section in edges if section != "findings"}
        explained = {child for _, child, section in edges if section == "findings"}
        for ident, layer in declared.items():
            if layer == "finding" and ident not in explained:
                self.problem(
                    f"findings[{ident}]",
                    "no cause explains this finding; link it from a cause's 'findings' "
                    "or remove it",
                )
            if layer == "risk factor" and ident not in used:
                self.problem(
                    f"risk_factors[{ident}]",
                    "no cause uses this risk factor; link it from a cause's 'risk_factors' "
                    "or 'protective', or remove it",
                )

    def check_cycles(self, top: dict[str, Any]) -> None:
        graph = nx.DiGraph((parent, child) for parent, child, _ in self.raw_edges(top))
        try:
            cycle = nx.find_cycle(graph)
        except nx.NetworkXNoCycle:
            return
        names = " -> ".join([cycle[0][0], *(edge[1] for edge in cycle)])
        self.problem(
            "causes",
            f"the links form a cycle: {names}; a Bayesian network must be acyclic",
        )


def _line(obj: Any, key: Any) -> int | None:
    if isinstance(obj, LineDict):
        return obj.lines.get(key, obj.line)
    return None


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {value!r}"


def _quoted(values: Iterable[str]) -> str:
    return ", ".join(repr(v) for v in values)


def _unique(items):
    seen: set[str] = set()
    for item in items:
        if item.id not in seen:
            seen.add(item.id)
            yield item
