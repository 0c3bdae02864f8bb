"""How the engine's cost grows: with the number of causes, positive findings and batch size.

Usage (from the repository root, with the benchmark extra installed)::

    python benchmarks/growth.py             # appends three tables to benchmarks/results.md

1. Causes: synthetic models of the bundled model's shape with 10, 20, 40 and 80 causes
   (risk factors and findings in the bundled model's proportions; each finding's number
   of causes and each risk factor's number of children drawn from the bundled model's
   own distributions, within groups of about eight related causes; numbers random),
   cases simulated from each model with the same blanks as ``run.py``. pyAgrum's
   LazyPropagation runs on the first cases, and both are checked to agree to 1e-9.
2. Positive findings per case: the bundled model's simulated cases, binned by how many
   findings are present.
3. Batch size: the same realistic cases scored in batches of 1 to 10,000.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from diffdx import load_kb, simulate_cases
from diffdx.compiled import compile_model
from diffdx.evidence import Evidence, parse_columns
from diffdx.kb_io import parse_kb

HERE = Path(__file__).resolve().parent


def _shape(kb):
    """Fan-in of each finding and fan-out of each multi-state-free risk factor."""
    params = compile_model(kb).params
    fan_in = (params.cause_log_inhibitor != 0).sum(axis=0)
    acts = (params.slot_log_inhibitor != 0) | (params.slot_log_survival != 0)
    slot_root = np.asarray(params.slot_root)
    fan_out = np.array([acts[slot_root == r].any(axis=0).sum() for r in range(len(params.roots))])
    return fan_in[fan_in > 0], fan_out[fan_out > 0]


def synthetic_model_text(n_causes: int, seed: int = 0) -> str:
    """A model file shaped like the bundled one, with ``n_causes`` causes."""
    rng = np.random.default_rng(seed)
    fan_in, fan_out = _shape(load_kb("calf_pain"))
    n_rf = round(n_causes * 35 / 24)
    n_findings = round(n_causes * 52 / 24)
    lines = [
        "schema_version: 1",
        f"name: synthetic_{n_causes}",
        'version: "0"',
        "title: Synthetic model for benchmarks",
        "population: Synthetic.",
        "disclaimer: Benchmark fixture, not clinical knowledge.",
        "references:",
        "  lit: {kind: literature, citation: Synthetic numbers.}",
        "demographics:",
        "  age:",
        "    - {id: age_18_49, min_age: 18, prior: {p: 0.5, source: lit}}",
        "    - {id: age_50_69, min_age: 50, prior: {p: 0.3, source: lit}}",
        "    - {id: age_70_plus, min_age: 70, prior: {p: 0.2, source: lit}}",
        "  sex:",
        "    - {id: female, prior: {p: 0.5, source: lit}}",
        "    - {id: male, prior: {p: 0.5, source: lit}}",
        "risk_factors:",
    ]
    for r in range(n_rf):
        p = rng.uniform(0.02, 0.4)
        lines.append(f"  - {{id: rf{r}, label: rf{r}, prevalence: {{p: {p:.4f}, source: lit}}}}")
    leaks = rng.uniform(0.005, 0.1, n_findings)
    lines.append("findings:")
    for f in range(n_findings):
        lines.append(
            f"  - {{id: f{f}, label: f{f}, kind: sign, leak: {{p: {leaks[f]:.4f}, source: lit}}}}"
        )
    # Causes come in groups of about eight, as in the bundled model (muscle, tendon,
    # vein, artery, nerve, bone...): a finding or risk factor draws its causes from one
    # group, spilling into others only when it has more links than the group has causes.
    groups = np.array_split(rng.permutation(n_causes), max(1, round(n_causes / 8)))

    def draw(k):
        home = groups[int(rng.integers(len(groups)))]
        k = min(k, n_causes)
        picked = list(rng.choice(home, size=min(k, len(home)), replace=False))
        rest = np.setdiff1d(np.arange(n_causes), picked)
        picked += list(rng.choice(rest, size=k - len(picked), replace=False))
        return set(picked)

    parents = [draw(int(rng.choice(fan_in))) for _ in range(n_findings)]
    children = [draw(int(rng.choice(fan_out))) for _ in range(n_rf)]
    lines.append("causes:")
    for c in range(n_causes):
        base = rng.uniform(0.002, 0.1)
        lines += [
            f"  - id: c{c}",
            f"    label: c{c}",
            "    description: x",
            "    urgency: routine",
            "    seed: {source: lit, quote: x}",
            f"    baseline: {{p: {base:.4f}, source: lit}}",
            "    action_threshold: {p: 0.5, rationale: x}",
        ]
        risk = [f"rf{r}" for r in range(n_rf) if c in children[r]]
        risk += [a for a in ("age_50_69", "age_70_plus", "female") if rng.random() < 0.3]
        if risk:
            lines.append("    risk_factors:")
            for r in risk:
                lines.append(f"      {r}: {{p: {rng.uniform(base + 0.05, 0.6):.4f}, source: lit}}")
        mine = [f for f in range(n_findings) if c in parents[f]]
        while len(mine) < 3:  # the model format asks for three findings per cause
            mine.append(int(rng.choice(np.setdiff1d(np.arange(n_findings), mine))))
        lines.append("    findings:")
        for f in mine:
            p = rng.uniform(leaks[f] + 0.05, 0.95)
            lines.append(f"      f{f}: {{p: {p:.4f}, source: lit}}")
    return "\n".join(lines) + "\n"


def _evidence(kb, n, seed):
    df = simulate_cases(n, model=kb, seed=seed)
    ev, _ = parse_columns(kb, {c: df[c].to_numpy() for c in df.columns if c != "id"}, n)
    return ev


def _per_case(engine, ev, repeats=3):
    engine.posteriors(Evidence(ev.roots[:1], ev.findings[:1]))
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        post, _ = engine.posteriors(ev)
        best = min(best, time.perf_counter() - t)
    return post, best / len(ev)


def by_causes(sizes, n_cases, agrum_cases):
    rows = []
    for n_causes in sizes:
        kb = parse_kb(synthetic_model_text(n_causes), file=f"synthetic_{n_causes}.yaml")
        engine = compile_model(kb).engine
        ev = _evidence(kb, n_cases, seed=n_causes)
        post, per_case = _per_case(engine, ev)
        agrum, diff = float("nan"), float("nan")
        if agrum_cases:
            try:
                from run import agrum_network, bench_agrum

                from diffdx import build_network

                bn = agrum_network(kb, build_network(kb))
                sub = Evidence(ev.roots[:agrum_cases], ev.findings[:agrum_cases])
                ref, secs = bench_agrum(kb, bn, sub, "LazyPropagation")
                agrum = secs / len(sub)
                diff = float(np.abs(ref - post[: len(sub)]).max())
            except ImportError:
                pass
        rows.append((n_causes, len(kb.risk_factors), len(kb.findings), per_case, agrum, diff))
    return rows


def by_positives(n_cases):
    kb = load_kb("calf_pain")
    engine = compile_model(kb).engine
    ev = _evidence(kb, n_cases, seed=7)
    positives = (ev.findings == 1).sum(axis=1)
    rows = []
    for lo, hi in ((0, 0), (1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 14), (15, 99)):
        sel = (positives >= lo) & (positives <= hi)
        if sel.sum() < 5:
            continue
        sub = Evidence(ev.roots[sel], ev.findings[sel])
        _, per_case = _per_case(engine, sub)
        rows.append((f"{lo}-{hi}" if hi < 99 else f"{lo}+", int(sel.sum()), per_case))
    return rows


def by_batch(sizes):
    kb = load_kb("calf_pain")
    engine = compile_model(kb).engine
    ev = _evidence(kb, max(sizes), seed=8)
    rows = []
    for size in sizes:
        start = time.perf_counter()
        done = 0
        while done < max(sizes) and time.perf_counter() - start < 5:
            chunk = Evidence(ev.roots[done : done + size], ev.findings[done : done + size])
            engine.posteriors(chunk)
            done += size
        rows.append((size, (time.perf_counter() - start) / done))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--causes", default="10,20,40,80")
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--agrum-cases", type=int, default=30)
    parser.add_argument("--output", default=str(HERE / "results.md"))
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.causes.split(",")]
    lines = [
        "",
        f"## Cost growth ({time.strftime('%Y-%m-%d')})",
        "",
        "Synthetic models of the bundled model's shape; cases simulated with its blanks.",
        "",
        "| causes | risk factors | findings | diffdx ms/case | pyAgrum LP ms/case | ratio "
        "| max abs diff |",
        "|---|---|---|---|---|---|---|",
    ]
    for n_causes, n_rf, n_f, ours, agrum, diff in by_causes(sizes, args.cases, args.agrum_cases):
        lines.append(
            f"| {n_causes} | {n_rf} | {n_f} | {ours * 1e3:.3f} | {agrum * 1e3:.1f} | "
            f"{agrum / ours:,.0f} | {diff:.1e} |"
        )
    lines += [
        "",
        "Bundled model, realistic simulated cases, by positive findings per case:",
        "",
        "| positives | cases | diffdx ms/case |",
        "|---|---|---|",
    ]
    lines += [f"| {b} | {n} | {t * 1e3:.3f} |" for b, n, t in by_positives(args.cases * 5)]
    lines += [
        "",
        "Bundled model, batch size (one thread below 4 cases, both from 4):",
        "",
        "| batch | diffdx ms/case |",
        "|---|---|",
    ]
    lines += [f"| {size:,} | {t * 1e3:.3f} |" for size, t in by_batch([1, 10, 100, 1000, 10000])]
    text = "\n".join(lines) + "\n"
    with open(args.output, "a") as handle:
        handle.write(text)
    print(text)


if __name__ == "__main__":
    main()
