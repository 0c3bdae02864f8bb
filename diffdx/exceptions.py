"""Exception and warning classes raised by diffdx.

Every error subclasses :class:`DiffdxError` and a matching built-in, so callers can catch
either ``DiffdxError`` or, say, ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "ColumnsError",
    "DiffdxError",
    "EvidenceError",
    "ImpossibleEvidenceError",
    "InferenceLimitError",
    "InvalidParameterError",
    "KnowledgeBaseError",
    "MissingDependencyError",
    "ModelNotFoundError",
    "Problem",
]


class DiffdxError(Exception):
    """Base class of every error raised by diffdx."""


@dataclass(frozen=True)
class Problem:
    """One problem found in a model file.

    Parameters
    ----------
    path : str
        Key path inside the file, e.g. ``causes[dvt].findings.calf_swelling``.
    message : str
        What is wrong, and where possible what to do about it.
    line : int or None
        1-based line in the file, when known.
    """

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path} (line {self.line})" if self.line else self.path
        return f"{where}: {self.message}"


class KnowledgeBaseError(DiffdxError, ValueError):
    """A model file is invalid; ``problems`` lists everything wrong with it at once."""

    def __init__(self, file: str, problems: Sequence[Problem]):
        self.file = file
        self.problems = tuple(problems)
        n = len(self.problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{file} has {n} problem{'s' if n != 1 else ''}:\n{lines}")


class EvidenceError(DiffdxError, ValueError):
    """A case names a variable the model lacks, or gives a value it cannot parse."""


class ColumnsError(EvidenceError):
    """A table of cases has unknown, duplicated or missing columns."""


class ImpossibleEvidenceError(EvidenceError):
    """The evidence has probability zero under the model."""


class InferenceLimitError(DiffdxError, RuntimeError):
    """A case needs more memory than the engine allows (an elimination table too large)."""


class InvalidParameterError(DiffdxError, ValueError, TypeError):
    """A function was called with an argument of the wrong type or value."""


class MissingDependencyError(DiffdxError, ImportError):
    """An optional dependency (e.g. matplotlib for plots) is not installed."""


class ModelNotFoundError(DiffdxError, FileNotFoundError):
    """Neither a bundled model of that name nor a file at that path exists."""
