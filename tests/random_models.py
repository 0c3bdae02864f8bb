"""Random small models, written as YAML text, for property tests of inference."""

from __future__ import annotations

import numpy as np

from diffdx.kb_io import parse_kb


def random_model_text(
    seed: int,
    n_rf: int = 4,
    n_causes: int = 6,
    n_findings: int = 8,
    max_extra_parents: int = 3,
    rf_link: float = 0.25,
) -> str:
    """A valid model file with random structure and numbers (deterministic in ``seed``).

    Each finding has one cause plus up to ``max_extra_parents`` more; each cause links to
    each risk factor with probability ``rf_link`` (and to its own risk factors).
    """
    rng = np.random.default_rng(seed)
    ages = ["age_18_49", "age_50_69", "age_70_plus"]
    age_p = rng.dirichlet(np.ones(3)).round(6)
    age_p[-1] = round(1 - age_p[:-1].sum(), 6)
    lines = [
        "schema_version: 1",
        f"name: random_{seed}",
        'version: "0"',
        "title: Random model",
        "population: Random test population.",
        "disclaimer: Test fixture.",
        "references:",
        "  lit:",
        "    kind: literature",
        "    citation: A test reference.",
        "demographics:",
        "  age:",
    ]
    for i, (a, p) in enumerate(zip(ages, age_p, strict=True)):
        lines.append(f"    - {{id: {a}, min_age: {18 + 30 * i}, prior: {{p: {p}, source: lit}}}}")
    sex_p = round(float(rng.uniform(0.2, 0.8)), 6)
    lines += [
        "  sex:",
        f"    - {{id: female, prior: {{p: {sex_p}, source: lit}}}}",
        f"    - {{id: male, prior: {{p: {round(1 - sex_p, 6)}, source: lit}}}}",
        "risk_factors:",
    ]
    rfs = [f"rf{i}" for i in range(n_rf)]
    for r in rfs:
        lines += [
            f"  - id: {r}",
            f"    label: {r}",
            f"    prevalence: {{p: {rng.uniform(0.02, 0.6):.4f}, source: lit}}",
        ]
    findings = [f"f{i}" for i in range(n_findings)]
    leaks = rng.uniform(0.001, 0.2, n_findings)
    lines.append("findings:")
    for f, leak in zip(findings, leaks, strict=True):
        lines += [
            f"  - id: {f}",
            f"    label: {f}",
            "    kind: sign",
            f"    leak: {{p: {leak:.4f}, source: lit}}",
        ]
    # every finding gets at least one cause; every risk factor at least one child
    parents_of = {f: {int(rng.integers(n_causes))} for f in findings}
    for f in findings:
        extra = rng.integers(0, min(max_extra_parents, n_causes - 1) + 1)
        parents_of[f] |= set(rng.choice(n_causes, size=extra, replace=False).tolist())
    rf_children = {r: {int(rng.integers(n_causes))} for r in rfs}
    lines.append("causes:")
    for c in range(n_causes):
        base = rng.uniform(0.005, 0.3)
        lines += [
            f"  - id: c{c}",
            f"    label: c{c}",
            "    description: x",
            "    urgency: routine",
            "    seed: {source: lit, quote: x}",
            f"    baseline: {{p: {base:.4f}, source: lit}}",
            "    action_threshold: {p: 0.5, rationale: x}",
        ]
        risk = [r for r in rfs if c in rf_children[r] or rng.random() < rf_link]
        demo = [s for s in [*ages, "female", "male"] if rng.random() < 0.15]
        protect = [r for r in rfs if r not in risk and rng.random() < 0.15]
        if risk or demo:
            lines.append("    risk_factors:")
            for r in [*risk, *demo]:
                lines.append(f"      {r}: {{p: {rng.uniform(base + 0.01, 0.95):.4f}, source: lit}}")
        if protect:
            lines.append("    protective:")
            for r in protect:
                lines.append(f"      {r}: {{p: {rng.uniform(0.05, 0.9):.4f}, source: lit}}")
        mine = [f for f in findings if c in parents_of[f]]
        extra = [f for f in findings if f not in mine]
        while len(mine) < 3:
            mine.append(extra.pop(int(rng.integers(len(extra)))))
        lines.append("    findings:")
        for f, leak in zip(findings, leaks, strict=True):
            if f in mine:
                lines.append(f"      {f}: {{p: {rng.uniform(leak + 0.01, 0.99):.4f}, source: lit}}")
    return "\n".join(lines) + "\n"


def random_model(seed: int, **sizes):
    """Parse :func:`random_model_text` into a KnowledgeBase."""
    return parse_kb(random_model_text(seed, **sizes), file=f"random_{seed}.yaml")
