"""diffdx: Bayesian differential diagnosis of calf pain.

A research tool, not medical advice. Import is light: pgmpy is only imported when a
function that needs it (:func:`build_network`, the exporters) is called.
"""

from diffdx._version import __version__
from diffdx.batch import score_frame
from diffdx.datasets import example_cases_path, list_models, model_path
from diffdx.distributed import score_dask
from diffdx.exceptions import (
    ColumnsError,
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
from diffdx.files import score_file
from diffdx.kb import KnowledgeBase
from diffdx.kb_io import load_kb
from diffdx.network import build_network
from diffdx.ranking import Ranking, explain, rank_causes
from diffdx.simulate import simulate_cases
from diffdx.summary import model_summary

__all__ = [
    "ColumnsError",
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
    "example_cases_path",
    "explain",
    "list_models",
    "load_kb",
    "model_path",
    "model_summary",
    "rank_causes",
    "score_dask",
    "score_file",
    "score_frame",
    "simulate_cases",
    "to_bif",
    "to_networkx",
    "to_xmlbif",
]
