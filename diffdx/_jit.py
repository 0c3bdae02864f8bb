"""What every jitted module of the engine shares: the cache flag and the sources check.

numba keys the on-disk cache of a module's compiled code on that module's file only,
yet the code includes every kernel inlined or called from other modules. So each
jitted module records ``KERNEL_SOURCES_SHA256``, the :func:`sources_digest` of the
modules it compiles in: editing one of them changes the recorded value (a test checks
it is current), hence the module's file, hence its cache key, instead of loading stale
code.

The kernels compile with numpy's error model (``error_model="numpy"``): a division by
zero gives inf or nan instead of raising, so loops with a division can be vectorised.
Every division in them is guarded or cannot divide by zero.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

__all__ = ["KERNEL_DEPENDENCIES", "NUMBA_CACHE", "sources_digest"]

#: Cache compiled code on disk (``DIFFDX_NUMBA_CACHE=0`` turns it off); every jitted
#: module of the engine reads this one flag.
NUMBA_CACHE = os.environ.get("DIFFDX_NUMBA_CACHE", "1") != "0"

#: For each jitted module, the modules whose kernels its compiled code includes.
KERNEL_DEPENDENCIES = {
    "_noisy_or": ("_borrow", "_workspace"),
    "_elimination": ("_borrow", "_workspace"),
    "engine": ("_borrow", "_workspace", "_elimination", "_noisy_or"),
}


def sources_digest(*modules: str) -> str:
    """Return the first 16 hex digits of the SHA-256 of these modules' source files.

    Examples
    --------
    >>> len(sources_digest("_borrow", "_workspace"))
    16
    """
    digest = hashlib.sha256()
    for name in modules:
        digest.update((Path(__file__).parent / f"{name}.py").read_bytes())
    return digest.hexdigest()[:16]
