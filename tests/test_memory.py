"""Streaming keeps memory flat: scoring 10x more rows must not need much more memory.

Each run happens in a fresh process that reports its own peak resident memory. Rows
repeat a pool of distinct cases, as registries do, so the test stays fast; the full
2M-row measurement lives in benchmarks/memory.py.
"""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from diffdx.simulate import simulate_cases

# The peak is read from VmHWM, the high-water mark of this process's own memory: Linux
# carries ru_maxrss across exec, so it would report pytest's size instead.
SCRIPT = """
import sys
from diffdx.files import score_file
score_file(sys.argv[1], sys.argv[2], id_column="id", chunksize=1000)
print(next(line for line in open("/proc/self/status") if line.startswith("VmHWM")).split()[1])
"""


def _peak_kb(src, dst) -> int:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(src), str(dst)],
        capture_output=True,
        text=True,
        check=True,
        cwd=src.parent,  # outside the checkout: import the installed package
    )
    return int(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_peak_memory_is_flat_in_file_length(tmp_path):
    pool = simulate_cases(250, seed=4)
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    pd.concat([pool] * 20, ignore_index=True).to_csv(small, index=False)  # 5k rows
    pd.concat([pool] * 200, ignore_index=True).to_csv(large, index=False)  # 50k rows
    small_kb = _peak_kb(small, tmp_path / "s_out.csv")
    large_kb = _peak_kb(large, tmp_path / "l_out.csv")
    with open(tmp_path / "l_out.csv") as handle:
        assert sum(1 for _ in handle) == 50_001
    # generous: 10x the rows may cost at most 1.5x the memory (plus 50 MB of slack)
    assert large_kb <= 1.5 * small_kb + 50_000, (small_kb, large_kb)
