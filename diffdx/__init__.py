"""diffdx: Bayesian differential diagnosis of calf pain.

A research tool, not medical advice. Import is light: pgmpy is only imported when a
function that needs it (:func:`build_network`, the exporters) is called.
"""

from diffdx._version import __version__
from diffdx.datasets import list_models, model_path
from diffdx.exceptions import (
    DiffdxError,
    EvidenceError,
    ImpossibleEvidenceError,
    InferenceLimitError,
    InvalidParameterError,
    KnowledgeBaseError,
    MissingDependencyError,
    ModelNotFoundError,
    Problem,
)
from diffdx.export import to_bif, to_networkx, to_xmlbif
from diffdx.kb import KnowledgeBase
from diffdx.kb_io import load_kb
from diffdx.network import build_network
from diffdx.ranking import Ranking, explain, rank_causes
from diffdx.summary import model_summary

__all__ = [
    "DiffdxError",
    "EvidenceError",
    "ImpossibleEvidenceError",
    "InferenceLimitError",
    "InvalidParameterError",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "MissingDependencyError",
    "ModelNotFoundError",
    "Problem",
    "Ranking",
    "__version__",
    "build_network",
    "explain",
    "list_models",
    "load_kb",
    "model_path",
    "model_summary",
    "rank_causes",
    "to_bif",
    "to_networkx",
    "to_xmlbif",
]
