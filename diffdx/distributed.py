"""Score a Dask DataFrame: the same :func:`score_frame`, mapped over its partitions.

Dask is an optional extra (``pip install 'diffdx[dask]'``). Each partition is scored
independently by the very function that scores a pandas DataFrame, with the output's
columns and dtypes declared up front (``meta``), so a researcher with a cluster scores a
dataset of any size on ``dask.distributed`` and gets the rows ``score_frame`` would give.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from diffdx.batch import check_columns, score_frame
from diffdx.compiled import compile_model
from diffdx.exceptions import MissingDependencyError
from diffdx.ranking import ModelLike

__all__ = ["score_dask"]


def score_dask(
    ddf: Any,
    *,
    model: ModelLike = "calf_pain",
    id_column: str | None = None,
    top: int = 3,
    strict: bool = False,
    ignore_extra_columns: bool = False,
) -> Any:
    """Score a Dask DataFrame of case records, partition by partition (lazily).

    Parameters
    ----------
    ddf : dask.dataframe.DataFrame
        One case per row, columns as for :func:`diffdx.score_frame`.
    model, id_column, top, strict, ignore_extra_columns
        As for :func:`diffdx.score_frame`. The model is loaded once here and shipped to
        the workers with the task graph.

    Returns
    -------
    dask.dataframe.DataFrame
        Lazy; same partitions and index as ``ddf``, the columns of :func:`score_frame`.

    Raises
    ------
    MissingDependencyError
        If dask is not installed.
    ColumnsError
        At once (not at compute time) for unknown or duplicated columns.

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd
    >>> cases = pd.DataFrame({"age": [30, 70], "calf_swelling": ["no", "yes"]})
    >>> out = score_dask(dd.from_pandas(cases, npartitions=2)).compute()
    >>> out["triage"].tolist()
    ['routine', 'urgent']
    """
    try:
        import dask.dataframe  # noqa: F401
    except ImportError:
        raise MissingDependencyError("score_dask needs dask: pip install 'diffdx[dask]'.") from None
    compiled = compile_model(model)
    check_columns(
        compiled.kb,
        list(ddf.columns),
        id_column=id_column,
        ignore_extra_columns=ignore_extra_columns,
    )
    kb = compiled.kb
    options = dict(
        id_column=id_column, top=top, strict=strict, ignore_extra_columns=ignore_extra_columns
    )
    empty = ddf._meta if hasattr(ddf, "_meta") else ddf.head(0)
    meta = score_frame(pd.DataFrame(empty), model=compiled, **options)
    return ddf.map_partitions(_score_partition, kb, options, meta=meta)


def _score_partition(part: pd.DataFrame, kb, options: dict) -> pd.DataFrame:
    # The knowledge base travels with the task graph; each worker compiles (and caches)
    # its own engine from it.
    return score_frame(part, model=kb, **options)
