"""Plots of results (matplotlib is an optional extra: ``pip install 'diffdx[plot]'``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from diffdx.exceptions import MissingDependencyError

if TYPE_CHECKING:  # pragma: no cover
    from diffdx.ranking import Ranking

__all__ = ["plot_ranking"]

_COLOURS = {
    "emergency": "#b71c1c",
    "urgent": "#e65100",
    "routine": "#1565c0",
    "self_care": "#2e7d32",
}


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise MissingDependencyError(
            "Plotting needs matplotlib: pip install 'diffdx[plot]'."
        ) from None
    return plt


def plot_ranking(ranking: Ranking, ax=None, *, top: int | None = 10):
    """Draw the posteriors of a ranking as horizontal bars, coloured by urgency.

    Parameters
    ----------
    ranking : Ranking
    ax : matplotlib.axes.Axes, optional
    top : int or None, default=10

    Returns
    -------
    matplotlib.axes.Axes
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.35 * (top or len(ranking.frame)) + 1))
    frame = ranking.frame.head(top) if top else ranking.frame
    frame = frame.iloc[::-1]
    ax.barh(
        frame["label"],
        frame["posterior"],
        color=[_COLOURS.get(u, "#555") for u in frame["urgency"]],
    )
    ax.scatter(frame["prior"], frame["label"], marker="|", color="black", s=120, label="prior")
    ax.set_xlim(0, 1)
    ax.set_xlabel("posterior probability")
    ax.set_title(f"Triage: {ranking.triage} ({ranking.model['name']})")
    ax.legend(loc="lower right")
    return ax
