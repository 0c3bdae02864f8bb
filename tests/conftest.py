from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from diffdx import load_kb

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
MODELS = ROOT / "models"
TINY = DATA / "tiny.yaml"


@pytest.fixture(scope="session")
def kb():
    """The bundled default model."""
    return load_kb("calf_pain")


@pytest.fixture(scope="session")
def tiny_kb():
    """A three-cause model small enough for brute-force enumeration."""
    return load_kb(TINY)


@pytest.fixture(scope="session")
def tiny_text():
    return TINY.read_text(encoding="utf-8")


@pytest.fixture
def rng():
    return np.random.default_rng(int(os.environ.get("DIFFDX_SEED", "42")))


@pytest.fixture(scope="session")
def network(kb):
    from diffdx import build_network

    return build_network(kb)


@pytest.fixture(scope="session")
def tiny_network(tiny_kb):
    from diffdx import build_network

    return build_network(tiny_kb)
