"""Latency of one `rank_causes` call (with reasons), warm and in a fresh process.

    python benchmarks/latency.py              # appends a section to benchmarks/results.md

Warm: after one call, ``rank_causes`` runs on cases simulated from the bundled model
(realistic blanks), once with every simulated value given and once each with a random 5,
10 and 15 of them, and the script reports the median (p50) and 90th percentile. Cold: a
new Python process imports diffdx and makes one call (the engine's compiled code comes
from numba's on-disk cache, which the warm run has filled); its wall time is reported
for several processes.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from diffdx import rank_causes, simulate_cases
from diffdx.compiled import compile_model

HERE = Path(__file__).resolve().parent
FIRST_CALL = """
import time
t = time.perf_counter()
from diffdx import rank_causes
rank_causes({"age": 34, "sex": "M", "runner": True, "sudden_onset": "yes", "pop_heard": 1,
             "bruising": True, "fever": False})
print(time.perf_counter() - t)
"""


def simulated_cases(n, seed):
    """Simulated cases as ``rank_causes`` input: only the values that were given."""
    df = simulate_cases(n, seed=seed).drop(columns="id")
    return [{k: v for k, v in row.items() if v != ""} for row in df.to_dict("records")]


def warm_latency(cases, size, rng, model):
    """Seconds per call on each case, keeping ``size`` of its values (None: all)."""
    seconds = []
    for case in cases:
        keys = list(case)
        if size is not None:
            keys = [keys[i] for i in rng.permutation(len(keys))[:size]]
        subset = {k: case[k] for k in keys}
        start = time.perf_counter()
        rank_causes(subset, model=model)
        seconds.append(time.perf_counter() - start)
    return np.array(seconds)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--output", default=str(HERE / "results.md"))
    args = parser.parse_args(argv)

    model = compile_model("calf_pain")
    cases = simulated_cases(args.cases, args.seed)
    rank_causes(cases[0], model=model)  # load the compiled code
    rng = np.random.default_rng(args.seed)
    lines = [
        f"## rank_causes latency ({time.strftime('%Y-%m-%d')})",
        "",
        f"One call with reasons, on {args.cases} simulated cases, after a warm-up call.",
        "",
        "| values given | p50 (ms) | p90 (ms) |",
        "|---|---|---|",
    ]
    for size in (5, 10, 15, None):
        ms = warm_latency(cases, size, rng, model) * 1e3
        label = "all simulated (about 50)" if size is None else f"random {size}"
        lines.append(f"| {label} | {np.median(ms):.2f} | {np.percentile(ms, 90):.2f} |")
    cold = [
        float(
            subprocess.run(
                [sys.executable, "-c", FIRST_CALL], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(args.processes)
    ]
    lines += [
        "",
        "First call in a new process, import included (compiled code from the on-disk "
        f"cache): {', '.join(f'{s:.2f}' for s in cold)} s.",
        "",
    ]
    text = "\n".join(lines)
    with open(args.output, "a") as out:
        out.write("\n" + text)
    print(text)


if __name__ == "__main__":
    main()
