"""A model ready for inference: knowledge base, noisy-OR parameters and engine, cached."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass

from diffdx.datasets import model_path
from diffdx.engine import Engine
from diffdx.kb import KnowledgeBase
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


_CACHE: dict[tuple[str, str], CompiledModel] = {}
_BY_FILE: dict[tuple[str, int], CompiledModel] = {}
_LOCK = threading.Lock()


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
        path = model_path(model).resolve()
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
