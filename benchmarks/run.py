"""Benchmark diffdx's engine against pgmpy and pyAgrum in one run, at equal posteriors.

Usage (from the repository root, with the benchmark extra installed)::

    pip install '.[bench]'
    python benchmarks/run.py                # default sizes; writes benchmarks/results.md
    python benchmarks/run.py --pgmpy-cases 40 --agrum-cases 100   # quicker, rougher ratios

Cases are simulated from the bundled model (realistic blanks: 30% of risk factors and 50%
of findings unknown, age and sex almost always known). Every method's posteriors are
compared with diffdx's on the cases it ran; the table reports the largest absolute
difference next to the speed, so a fast wrong answer cannot hide. Each method runs in a
process of its own, so the peak memory reported is that method's.

The slower methods run on the first cases only (``--pgmpy-cases`` and so on), and cases
differ in cost, so each is compared with diffdx on its own cases: diffdx is timed on those
cases too, repeated to a batch of ``--cases``. The ratio that counts against pgmpy is
against its fastest configuration we found (joint queries of eight causes, each cause's
marginal summed out of them); pgmpy asked one cause at a time, the configuration
``../shared/engine-notes.md`` measured, is timed too, for reference.

The slower methods take minutes, and a shared machine's speed drifts over minutes, so
diffdx is timed before, between and after them (five runs); its figures are the medians,
and every run's speed on all cases is printed below the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
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


def _best_time(engine, ev, repeats):
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        post, _ = engine.posteriors(ev)
        best = min(best, time.perf_counter() - t)
    return post, best


def bench_diffdx(engine, ev, same_as=(), repeats=3):
    """Time diffdx on all cases, and per case on the first ``k`` for each ``k`` in ``same_as``.

    Those ``k`` cases are repeated to a batch as large as ``ev``, so that diffdx runs on
    them as on the whole batch (both threads); the module docstring says why.
    """
    engine.posteriors(Evidence(ev.roots[:1], ev.findings[:1]))  # load the compiled code
    post, secs = _best_time(engine, ev, repeats)
    same = {}
    for k in same_as:
        rows = np.resize(np.arange(min(k, len(ev))), len(ev))
        _, secs_k = _best_time(engine, Evidence(ev.roots[rows], ev.findings[rows]), repeats)
        same[k] = secs_k / len(ev)
    return post, secs, same


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


METHODS = {
    "diffdx": ("diffdx engine (numba, batch, 2 threads)", "cases"),
    "pgmpy": ("pgmpy VariableElimination (joint queries of 8)", "pgmpy_cases"),
    "pgmpy-1": ("pgmpy VariableElimination (one query per cause)", "pgmpy_single_cases"),
    "agrum-lp": ("pyAgrum LazyPropagation (targets: causes)", "agrum_cases"),
    "agrum-ss": ("pyAgrum ShaferShenoyInference (targets: causes)", "agrum_cases"),
}


def _peak_mb():
    """This process's peak resident memory (MB): VmHWM on Linux, where ru_maxrss is
    carried across exec and would count the parent benchmark's size too."""
    try:
        with open("/proc/self/status") as status:
            hwm = next(line for line in status if line.startswith("VmHWM"))
        return int(hwm.split()[1]) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_method(method, args):
    """Time one method in this process; save its posteriors, time and peak memory."""
    kb = load_kb("calf_pain")
    ev = _evidence(kb, args.cases, args.seed)
    k = getattr(args, METHODS[method][1])
    ev = Evidence(ev.roots[:k], ev.findings[:k])
    same = {}
    if method == "diffdx":
        sizes = sorted({getattr(args, field) for _, field in METHODS.values()} - {k})
        post, secs, same = bench_diffdx(compile_model(kb).engine, ev, sizes)
    elif method in ("pgmpy", "pgmpy-1"):
        post, secs = bench_pgmpy(kb, build_network(kb), ev, group=8 if method == "pgmpy" else 1)
    else:
        try:
            bn = agrum_network(kb, build_network(kb))
        except ImportError:
            raise SystemExit(3) from None
        algorithm = "LazyPropagation" if method == "agrum-lp" else "ShaferShenoyInference"
        post, secs = bench_agrum(kb, bn, ev, algorithm)
    work = Path(args.workdir)
    np.save(work / f"{method}.npy", post)
    peak_mb = _peak_mb()
    (work / f"{method}.json").write_text(
        json.dumps({"seconds": secs, "n": len(ev), "peak_mb": peak_mb, "same": same})
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--pgmpy-cases", type=int, default=200)
    parser.add_argument("--pgmpy-single-cases", type=int, default=40)
    parser.add_argument("--agrum-cases", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--output", default=str(HERE / "results.md"))
    parser.add_argument("--method", choices=list(METHODS), help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", FutureWarning)
    if args.method:  # a child process: one method only
        run_method(args.method, args)
        return

    # Each method runs in its own process, so its peak memory is its own.
    results = {}
    diffdx_runs = []
    with tempfile.TemporaryDirectory() as work:
        others = [m for m in METHODS if m != "diffdx"]
        schedule = ["diffdx"] + [x for m in others for x in (m, "diffdx")]  # see the docstring
        for method in schedule:
            flags = [f"--{k.replace('_', '-')}={v}" for k, v in vars(args).items() if v]
            done = subprocess.run(
                [sys.executable, __file__, *flags, f"--method={method}", f"--workdir={work}"],
                check=False,
            )
            if done.returncode == 3:  # pyAgrum not installed
                continue
            done.check_returncode()
            meta = json.loads((Path(work) / f"{method}.json").read_text())
            post = np.load(Path(work) / f"{method}.npy")
            if method == "diffdx":
                diffdx_runs.append(meta)
                if "diffdx" in results and not np.array_equal(post, results["diffdx"][0]):
                    raise SystemExit("diffdx's runs gave different posteriors")
            results[method] = (post, meta)
    # diffdx: the median of its runs, for all cases and for each method's cases.
    n = diffdx_runs[0]["n"]
    ours = results["diffdx"][0]
    results["diffdx"] = (
        ours,
        {
            "n": n,
            "seconds": float(np.median([r["seconds"] for r in diffdx_runs])),
            "peak_mb": max(r["peak_mb"] for r in diffdx_runs),
        },
    )
    same = {
        int(k): float(np.median([r["same"][k] for r in diffdx_runs]))
        for k in diffdx_runs[0]["same"]
    }
    per_case = {m: meta["seconds"] / meta["n"] for m, (_, meta) in results.items()}
    lines = [
        f"# diffdx benchmark ({time.strftime('%Y-%m-%d')})",
        "",
        f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}. Cases simulated from "
        f"the bundled model (seed {args.seed}). Each method runs in its own process; peak "
        "RSS is that process's (interpreter and libraries included).",
        "",
        "| method | cases | cases/s | ms/case | diffdx on the same cases (cases/s) "
        "| diffdx is | max abs diff vs diffdx | peak RSS (MB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    worst = 0.0
    for method, (post, meta) in results.items():
        diff = float(np.abs(post - ours[: len(post)]).max())
        worst = max(worst, diff)
        pc = per_case[method]
        if method == "diffdx":
            versus = "- | -"
        else:
            ours_pc = same.get(meta["n"], per_case["diffdx"])
            versus = f"{1 / ours_pc:,.1f} | {pc / ours_pc:,.1f}x faster"
        lines.append(
            f"| {METHODS[method][0]} | {meta['n']} | {1 / pc:,.1f} | {pc * 1e3:.3f} | "
            f"{versus} | {diff:.1e} | {meta['peak_mb']:.0f} |"
        )
    lines += [
        "",
        "Each method runs on the first cases only, and cases differ in cost (the widest few "
        "take a third of diffdx's time), so diffdx is compared with each on the same cases, "
        f"repeated to a batch of {n:,}. diffdx's figures are medians of {len(diffdx_runs)} "
        "runs, before, between and after the others; its speed on all cases in each run: "
        + ", ".join(f"{n / r['seconds']:,.0f}" for r in diffdx_runs)
        + " cases/s, in that order.",
    ]
    if "pgmpy" in results:
        lines.append(
            f"Against its speed on all {n:,} cases instead, diffdx is "
            f"{per_case['pgmpy'] / per_case['diffdx']:,.0f}x pgmpy (joint queries of 8)."
        )
    text = "\n".join(lines) + "\n"
    Path(args.output).write_text(text)
    print(text)
    if worst > 1e-9:
        raise SystemExit(f"posteriors disagree by {worst:.2e} > 1e-9")


if __name__ == "__main__":
    main()
