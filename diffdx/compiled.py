"""A model ready for inference: knowledge base, noisy-OR parameters and engine, cached."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from diffdx.datasets import model_path
from diffdx.engine import Engine
from diffdx.kb import URGENCY_LEVELS, KnowledgeBase
from diffdx.kb_io import load_kb
from diffdx.parameters import NoisyOrParameters, noisy_or_parameters

__all__ = ["CompiledModel", "compile_model"]


@dataclass(frozen=True, eq=False)
class CompiledModel:
    """A knowledge base with its parameters and engine; what the ranking code works on."""

    kb: KnowledgeBase
    params: NoisyOrParameters
    engine: Engine

    def __repr__(self) -> str:
        return f"<CompiledModel {self.kb.name!r} v{self.kb.version} ({self.kb.short_hash})>"

    @cached_property
    def cause_index(self) -> pd.Index:
        """The cause ids as a pandas Index named ``cause``, built once.

        Hand out ``cause_index.copy()`` (a shallow copy, 2 us): a frame's ``columns.name``
        can be set in place, and must not rename the others'.
        """
        return pd.Index(self.kb.cause_ids, name="cause")

    @cached_property
    def cause_columns(self) -> dict[str, Any]:
        """Per-cause columns that do not depend on the case, in model order (built once)."""
        causes = self.kb.causes
        return {
            "cause": np.array(self.kb.cause_ids, dtype=object),
            "label": np.array([c.label for c in causes], dtype=object),
            "urgency": pd.Categorical(
                [c.urgency for c in causes], categories=URGENCY_LEVELS, ordered=True
            ),
            "action_threshold": np.array([c.action_threshold for c in causes]),
            "urgent": np.array([c.urgent for c in causes]),
        }


_CACHE: dict[tuple[str, str], CompiledModel] = {}
_BY_FILE: dict[tuple[str, int], CompiledModel] = {}
_LOCK = threading.Lock()
_RESOLVED: dict[str, Path] = {}


def _resolve(model: str | os.PathLike[str]) -> Path:
    """Absolute path of a model; bundled names are resolved once (paths can move with cwd)."""
    key = os.fspath(model)
    path = _RESOLVED.get(key)
    if path is None:
        path = model_path(model).resolve()
        if key == path.stem:  # a bundled name, not a path relative to the cwd
            _RESOLVED[key] = path
    return path


def compile_model(model: str | os.PathLike[str] | KnowledgeBase | CompiledModel) -> CompiledModel:
    """Return the compiled model for a bundled name, a path or a knowledge base (cached).

    Parameters
    ----------
    model : str, path-like, KnowledgeBase or CompiledModel

    Returns
    -------
    CompiledModel

    Examples
    --------
    >>> compile_model("calf_pain") is compile_model("calf_pain")
    True
    """
    if isinstance(model, CompiledModel):
        return model
    if not isinstance(model, KnowledgeBase):
        path = _resolve(model)
        file_key = (str(path), path.stat().st_mtime_ns)
        with _LOCK:
            hit = _BY_FILE.get(file_key)
        if hit is not None:
            return hit
        compiled = compile_model(load_kb(path))
        with _LOCK:
            _BY_FILE[file_key] = compiled
        return compiled
    kb = model
    key = (kb.content_hash, kb.path)
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is None:
            params = noisy_or_parameters(kb)
            cached = CompiledModel(kb=kb, params=params, engine=Engine.from_parameters(params))
            _CACHE[key] = cached
    return cached
