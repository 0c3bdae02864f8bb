"""Benchmark diffdx's engine against pgmpy and pyAgrum in one run, at equal posteriors.

Usage (from the repository root, with the benchmark extra installed)::

    pip install '.[bench]'
    python benchmarks/run.py                # default sizes; writes benchmarks/results.md
    python benchmarks/run.py --cases 20000 --pgmpy-cases 20 --agrum-cases 200

Cases are simulated from the bundled model (realistic blanks: 30% of risk factors and 50%
of findings unknown, age and sex almost always known). Every method's posteriors are
compared with diffdx's on the cases it ran; the table reports the largest absolute
difference next to the speed, so a fast wrong answer cannot hide.
"""

from __future__ import annotations

import argparse
import platform
import resource
import time
import warnings
from pathlib import Path

import numpy as np

from diffdx import build_network, load_kb, simulate_cases
from diffdx.compiled import compile_model
from diffdx.evidence import Evidence, node_states, parse_columns

HERE = Path(__file__).resolve().parent


def _evidence(kb, n, seed):
    df = simulate_cases(n, seed=seed)
    cols = {c: df[c].to_numpy() for c in df.columns if c != "id"}
    ev, _ = parse_columns(kb, cols, n)
    return ev


def bench_diffdx(engine, ev, repeats=3):
    engine.posteriors(Evidence(ev.roots[:1], ev.findings[:1]))  # load the compiled code
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        post, _ = engine.posteriors(ev)
        best = min(best, time.perf_counter() - t)
    return post, best


def bench_pgmpy(kb, network, ev, group=8):
    from pgmpy.inference import VariableElimination

    inference = VariableElimination(network)
    causes = list(kb.cause_ids)
    out = np.zeros((len(ev), len(causes)))
    t = time.perf_counter()
    for i in range(len(ev)):
        states = node_states(kb, ev, i)
        for g in range(0, len(causes), group):
            names = causes[g : g + group]
            joint = inference.query(names, evidence=states, show_progress=False, joint=True)
            for j, c in enumerate(names, g):
                others = [x for x in names if x != c]
                marg = joint.marginalize(others, inplace=False) if others else joint
                out[i, j] = marg.get_value(**{c: "present"})
    return out, time.perf_counter() - t


def agrum_network(kb, network):
    """The same network in pyAgrum, CPTs copied value by value from pgmpy."""
    import itertools

    import pyagrum as gum

    bn = gum.BayesNet(kb.name)
    for node in network.nodes():
        states = network.get_cpds(node).state_names[node]
        bn.add(gum.LabelizedVariable(node, node, list(states)))
    for a, b in network.edges():
        bn.addArc(a, b)
    for cpd in network.get_cpds():
        parents = cpd.variables[1:]
        values = cpd.get_values()  # (child states, parent configs), last parent fastest
        pstates = [cpd.state_names[p] for p in parents]
        cpt = bn.cpt(cpd.variable)
        for col, config in enumerate(itertools.product(*pstates)):
            cpt[dict(zip(parents, config, strict=True))] = values[:, col].tolist()
    return bn


def bench_agrum(kb, bn, ev, algorithm):
    import pyagrum as gum

    make = {
        "LazyPropagation": gum.LazyPropagation,
        "ShaferShenoyInference": gum.ShaferShenoyInference,
    }[algorithm]
    out = np.zeros((len(ev), len(kb.causes)))
    t = time.perf_counter()
    for i in range(len(ev)):
        ie = make(bn)
        ie.setEvidence(node_states(kb, ev, i))
        for c in kb.cause_ids:
            ie.addTarget(c)
        ie.makeInference()
        out[i] = [ie.posterior(c)[1] for c in kb.cause_ids]
    return out, time.perf_counter() - t


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--pgmpy-cases", type=int, default=40)
    parser.add_argument("--agrum-cases", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--output", default=str(HERE / "results.md"))
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", FutureWarning)

    kb = load_kb("calf_pain")
    engine = compile_model(kb).engine
    ev = _evidence(kb, args.cases, args.seed)
    rows = []
    post, secs = bench_diffdx(engine, ev)
    rows.append(("diffdx engine (numba, batch)", len(ev), secs, 0.0))
    network = build_network(kb)
    sub = Evidence(ev.roots[: args.pgmpy_cases], ev.findings[: args.pgmpy_cases])
    ref, secs_pg = bench_pgmpy(kb, network, sub)
    rows.append(
        (
            "pgmpy VariableElimination (joint queries of 8)",
            len(sub),
            secs_pg,
            float(np.abs(ref - post[: len(sub)]).max()),
        )
    )
    try:
        bn = agrum_network(kb, network)
    except ImportError:
        bn = None
    if bn is not None:
        sub = Evidence(ev.roots[: args.agrum_cases], ev.findings[: args.agrum_cases])
        for algorithm in ("LazyPropagation", "ShaferShenoyInference"):
            ref, secs_ag = bench_agrum(kb, bn, sub, algorithm)
            rows.append(
                (
                    f"pyAgrum {algorithm} (targets: causes)",
                    len(sub),
                    secs_ag,
                    float(np.abs(ref - post[: len(sub)]).max()),
                )
            )
    per_case = {name: secs / n for name, n, secs, _ in rows}
    pg = per_case[rows[1][0]]
    agrum = per_case.get(rows[2][0]) if len(rows) > 2 else None
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = [
        f"# diffdx benchmark ({time.strftime('%Y-%m-%d')})",
        "",
        f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"{__import__('os').cpu_count()} cores, Python {platform.python_version()}. "
        f"Cases simulated from the bundled model (seed {args.seed}). Peak RSS of the whole "
        f"run: {peak_mb:.0f} MB.",
        "",
        "| method | cases | cases/s | ms/case | x pgmpy | x pyAgrum LP | max abs diff vs diffdx |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, n, secs, diff in rows:
        pc = secs / n
        lines.append(
            f"| {name} | {n} | {n / secs:,.1f} | {pc * 1e3:.3f} | {pg / pc:,.1f} | "
            f"{(agrum / pc if agrum else float('nan')):,.1f} | {diff:.1e} |"
        )
    text = "\n".join(lines) + "\n"
    Path(args.output).write_text(text)
    print(text)
    worst = max(diff for *_, diff in rows)
    if worst > 1e-9:
        raise SystemExit(f"posteriors disagree by {worst:.2e} > 1e-9")


if __name__ == "__main__":
    main()
