"""Peak memory of `diffdx score` versus file length (streaming must keep it flat).

    python benchmarks/memory.py                 # 100k and 1M rows; appends to results.md
    python benchmarks/memory.py --distinct      # every row a different simulated case
    python benchmarks/memory.py --distinct --formats csv,parquet   # the same rows, both formats

Each size is scored in a fresh process that reports its own peak resident memory and
time. Both sizes span several chunks (20,000 rows each): below one chunk, a smaller file
also means smaller chunks, and the comparison would measure the chunk size instead of
the file length. By default rows repeat a pool of 5,000 simulated cases (registries
repeat patterns; repeated rows are computed once per chunk). With ``--distinct`` every
row is its own simulated case, so the file holds the rare wide cases whose elimination
tables dominate peak memory. Fails if the peak is not flat or exceeds 1 GB.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from diffdx import simulate_cases

HERE = Path(__file__).resolve().parent
# The peak is VmHWM, the high-water mark of the scoring process's own memory (Linux):
# ru_maxrss is carried across exec and would include this script's size at fork.
SCRIPT = """
import sys
from diffdx.files import score_file
s = score_file(sys.argv[1], sys.argv[2], id_column="id")
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(s.rows, s.seconds, hwm.split()[1])
"""


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--output", default=str(HERE / "results.md"))
    parser.add_argument("--distinct", action="store_true", help="no repeated rows")
    parser.add_argument("--formats", default="csv", help="input formats: csv, parquet or both")
    args = parser.parse_args(argv)
    sizes = list(map(int, args.sizes.split(",")))
    formats = args.formats.split(",")
    pool = simulate_cases(max(sizes) if args.distinct else 5000, seed=9)
    peaks: list[float] = []
    kind = "distinct rows" if args.distinct else "rows drawn from 5,000 patterns"
    lines = [
        "",
        f"## Streaming memory, {kind} ({time.strftime('%Y-%m-%d')})",
        "",
        "| rows | input | seconds | rows/s | peak RSS (MB) |",
        "|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for n, fmt in [(n, fmt) for n in sizes for fmt in formats]:
            src, dst = Path(tmp) / f"{n}.{fmt}", Path(tmp) / f"{n}_out.csv"
            reps = -(-n // len(pool))
            rows_df = pd.concat([pool] * reps, ignore_index=True).iloc[:n]
            if fmt == "parquet":  # typed as a registry export would be: age a nullable int
                age = pd.to_numeric(rows_df["age"], errors="coerce").astype("Int64")
                rows_df.assign(age=age).to_parquet(src, index=False)
            else:
                rows_df.to_csv(src, index=False)
            out = subprocess.run(
                [sys.executable, "-c", SCRIPT, str(src), str(dst)],
                capture_output=True,
                text=True,
                check=True,
                cwd=tmp,  # outside the checkout: import the installed package
            )
            rows, secs, peak = out.stdout.split()[-3:]
            rows, secs, peak = int(rows), float(secs), int(peak) / 1024
            peaks.append(peak)
            lines.append(f"| {rows:,} | {fmt} | {secs:.1f} | {rows / secs:,.0f} | {peak:.0f} |")
            print(lines[-1], flush=True)
    with open(args.output, "a") as handle:
        handle.write("\n".join(lines) + "\n")
    # flat, generously: the longest file may need at most twice the memory of the shortest
    if max(peaks) > 2 * min(peaks):
        raise SystemExit(f"peak memory is not flat in file length: {peaks} MB")
    if max(peaks) > 1024:
        raise SystemExit(f"peak memory over 1 GB: {peaks} MB")


if __name__ == "__main__":
    main()
