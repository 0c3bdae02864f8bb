"""Find the bundled models (shipped inside the package) and model files by path."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from diffdx.exceptions import ModelNotFoundError

__all__ = ["example_case", "example_cases_path", "list_models", "model_path"]

_PACKAGE = "diffdx.models"


def _bundled_dir() -> Path:
    return Path(str(resources.files(_PACKAGE)))


def list_models() -> list[str]:
    """Names of the models bundled with diffdx.

    Returns
    -------
    list of str

    Examples
    --------
    >>> "calf_pain" in list_models()
    True
    """
    return sorted(p.stem for p in _bundled_dir().glob("*.yaml"))


def model_path(name_or_path: str | os.PathLike[str]) -> Path:
    """Resolve a bundled model name or a file path to an existing file.

    Parameters
    ----------
    name_or_path : str or path-like
        A bundled model's name (see :func:`list_models`) or the path of a YAML file.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ModelNotFoundError
        If it is neither.
    """
    text = os.fspath(name_or_path)
    path = Path(text)
    if path.suffix in (".yaml", ".yml") or os.sep in text or "/" in text:
        if path.is_file():
            return path
        raise ModelNotFoundError(f"No model file at {text!r}.")
    bundled = _bundled_dir() / f"{text}.yaml"
    if bundled.is_file():
        return bundled
    names = ", ".join(list_models()) or "none"
    raise ModelNotFoundError(
        f"No bundled model named {text!r} (bundled: {names}); pass the path of a .yaml file "
        "to load your own."
    )


def example_case() -> dict[str, object]:
    """Return an example case: a 34-year-old runner who felt a pop in the calf.

    Returns
    -------
    dict
        Variable id -> value, as :func:`diffdx.rank_causes` accepts it.

    Examples
    --------
    >>> example_case()["pop_heard"]
    'yes'
    """
    return {
        "age": 34,
        "sex": "M",
        "runner": True,
        "sports_jumping_sprinting": "yes",
        "sudden_onset": "yes",
        "pop_heard": "yes",
        "sharp_pain": "yes",
        "bruising": "yes",
        "calf_swelling": "yes",
        "fever": "no",
        "positive_thompson_test": "no",
        "recent_surgery": "no",
    }


def example_cases_path() -> Path:
    """Return the path of the bundled example case records (CSV, 300 rows).

    Simulated from the bundled model (:func:`diffdx.simulate.simulate_cases`, seed 2026)
    with realistic blanks, plus four deliberately invalid cells (rows 18, 59, 102, 231:
    ``fever="maybe"``, ``age="unknown age"``, ``sex="X"``, ``calf_swelling="2"``) to show
    how bad rows are reported.

    Examples
    --------
    >>> example_cases_path().name
    'calf_pain_cases.csv'
    """
    return Path(str(resources.files("diffdx.data"))) / "calf_pain_cases.csv"
