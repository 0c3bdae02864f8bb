"""Score many case records at once: ``score_frame`` (and the streaming CSV/Parquet scorer).

The same path as :func:`diffdx.rank_causes`, vectorised: columns -> evidence arrays
(:func:`diffdx.evidence.parse_columns`, the scalar parsers applied to each column's
distinct values) -> one engine call over the distinct evidence rows -> triage -> one output
row per input row, in order, with its id. A row with an unreadable cell gets its error in
the ``error`` column and no posteriors; every other row scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from diffdx.compiled import CompiledModel, compile_model
from diffdx.evidence import Evidence, parse_columns, variable_names
from diffdx.exceptions import ColumnsError, EvidenceError, InvalidParameterError
from diffdx.kb import KnowledgeBase
from diffdx.kb_io import did_you_mean
from diffdx.ranking import ModelLike
from diffdx.triage import TRIAGE_LEVELS, assess

__all__ = ["check_columns", "output_columns", "score_frame"]

_ID_NAMES = {"id", "case_id", "record_id", "patient_id", "subject_id", "caseid"}


def check_columns(
    kb: KnowledgeBase,
    columns: Sequence[Any],
    *,
    id_column: str | None = None,
    ignore_extra_columns: bool = False,
) -> list[str]:
    """Check a table's column names; return the model variables it holds.

    Parameters
    ----------
    kb : KnowledgeBase
    columns : sequence of str
        The table's column names, in order.
    id_column : str, optional
        A column to carry through unchanged.
    ignore_extra_columns : bool, default=False
        Skip columns that are not model variables (e.g. free-text notes) instead of
        failing.

    Returns
    -------
    list of str
        The columns that are model variables, in table order.

    Raises
    ------
    ColumnsError
        For a duplicated column, a missing ``id_column``, or (unless
        ``ignore_extra_columns``) columns the model does not know, listed with the
        closest ids.

    Examples
    --------
    >>> from diffdx import load_kb
    >>> check_columns(load_kb("calf_pain"), ["id", "age", "fever"], id_column="id")
    ['age', 'fever']
    """
    names = [str(c) for c in columns]
    dup = sorted({c for c in names if names.count(c) > 1})
    if dup:
        raise ColumnsError(f"Column(s) named more than once: {', '.join(map(repr, dup))}.")
    if id_column is not None and id_column not in names:
        raise ColumnsError(
            f"The id column {id_column!r} is not in the table{did_you_mean(id_column, names)}."
        )
    known = set(variable_names(kb))
    if id_column in known:
        raise ColumnsError(f"The id column {id_column!r} is a model variable; choose another.")
    extra = [c for c in names if c not in known and c != id_column]
    if extra and not ignore_extra_columns:
        shown = ", ".join(f"{c!r}{did_you_mean(c, known)}" for c in extra[:5])
        more = f" (+{len(extra) - 5} more)" if len(extra) > 5 else ""
        missing = [v for v in variable_names(kb) if v not in names]
        miss = ", ".join(map(repr, missing[:5])) + (
            f" (+{len(missing) - 5} more)" if len(missing) > 5 else ""
        )
        raise ColumnsError(
            f"Unknown column(s) for model {kb.name!r}: {shown}{more}. "
            + (
                f"Model variables not in the table (treated as unknown): {miss}. "
                if missing
                else ""
            )
            + (
                f"If {extra[0]!r} identifies the records, pass id_column={extra[0]!r} "
                f"(CLI: --id-column {extra[0]}). "
                if extra[0].lower() in _ID_NAMES
                else ""
            )
            + "Rename them, or pass ignore_extra_columns=True (CLI: --ignore-extra-columns) "
            "to skip columns that are not model variables."
        )
    return [c for c in names if c in known]


def output_columns(kb: KnowledgeBase, *, top: int = 3, id_column: str | None = None) -> list[str]:
    """Return the columns :func:`score_frame` writes, in order.

    Examples
    --------
    >>> from diffdx import load_kb
    >>> output_columns(load_kb("calf_pain"), top=1)[:6]
    ['model', 'model_version', 'model_hash', 'triage', 'triage_reasons', 'cause_1']
    """
    cols = [id_column] if id_column else []
    cols += ["model", "model_version", "model_hash", "triage", "triage_reasons"]
    for k in range(1, top + 1):
        cols += [f"cause_{k}", f"posterior_{k}"]
    cols += [f"p_{c}" for c in kb.cause_ids]
    cols += [f"flag_{c.id}" for c in kb.causes if c.urgent]
    cols.append("error")
    return cols


def _check_top(top: Any) -> int:
    if isinstance(top, bool) or not isinstance(top, int) or top < 0:
        raise InvalidParameterError(
            f"The 'top' parameter of score_frame must be an int >= 0. Got {top!r} instead."
        )
    return top


def unique_rows(evidence: Evidence) -> tuple[Evidence, np.ndarray]:
    """Return the distinct evidence rows and, for each input row, its distinct row."""
    both = np.ascontiguousarray(np.hstack([evidence.roots, evidence.findings]), dtype=np.int8)
    if len(both) == 0:
        return evidence, np.zeros(0, dtype=np.int64)
    # Each row as one opaque byte string: sorting those is an order of magnitude faster
    # than np.unique(axis=0), which compares column by column.
    rows = both.view(np.dtype((np.void, both.shape[1]))).ravel()
    _, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
    uniq = both[first]
    n_roots = evidence.roots.shape[1]
    return Evidence(roots=uniq[:, :n_roots], findings=uniq[:, n_roots:]), inverse.ravel()


def score_frame(
    df: pd.DataFrame,
    *,
    model: ModelLike = "calf_pain",
    id_column: str | None = None,
    top: int = 3,
    strict: bool = False,
    ignore_extra_columns: bool = False,
    row_offset: int = 0,
) -> pd.DataFrame:
    """Score every row of a table of case records, exactly as :func:`rank_causes` would.

    Parameters
    ----------
    df : pandas.DataFrame
        One case per row; columns are model variable ids plus ``age`` and ``sex`` (see
        ``diffdx variables``); blank / NA cells are unknown.
    model : str, path-like, KnowledgeBase or CompiledModel, default="calf_pain"
    id_column : str, optional
        A column copied to the output unchanged (e.g. a record id).
    top : int, default=3
        How many of the most probable causes to name per row (``cause_k``,
        ``posterior_k``).
    strict : bool, default=False
        Fail on the first invalid cell (naming row and column) instead of recording the
        error in that row's ``error`` column.
    ignore_extra_columns : bool, default=False
        Skip columns that are not model variables instead of failing.
    row_offset : int, default=0
        Added to row numbers in strict-mode messages (for chunked reading).

    Returns
    -------
    pandas.DataFrame
        Same index and row order as ``df``; the columns of :func:`output_columns`:
        model identity, ``triage`` and ``triage_reasons``, the top causes, one posterior
        ``p_<cause>`` per cause, ``flag_<cause>`` for each urgent cause (posterior at or
        above its action threshold) and ``error`` (empty when the row scored). Rows with
        an error have no posteriors (missing values), never invented ones.

    Raises
    ------
    ColumnsError
        For unknown or duplicated columns (see :func:`check_columns`).
    EvidenceError
        In strict mode, for the first invalid cell.

    Examples
    --------
    >>> import pandas as pd
    >>> cases = pd.DataFrame({"id": ["a", "b"], "age": [34, "old"], "pop_heard": ["yes", ""]})
    >>> out = score_frame(cases, id_column="id", top=1)
    >>> out[["id", "triage", "cause_1", "error"]]
      id     triage      cause_1                                              error
    0  a  emergency  calf_strain
    1  b       <NA>         <NA>  column 'age': Invalid value 'old' for 'age'; ...
    """
    top = _check_top(top)
    compiled: CompiledModel = compile_model(model)
    kb = compiled.kb
    variables = check_columns(
        kb, list(df.columns), id_column=id_column, ignore_extra_columns=ignore_extra_columns
    )
    n = len(df)
    evidence, errors = parse_columns(kb, {v: df[v] for v in variables}, n)
    if strict:
        for i, err in enumerate(errors):
            if err is not None:
                raise EvidenceError(f"Row {row_offset + i + 1} (index {df.index[i]!r}): {err}")
    ok = np.array([e is None for e in errors], dtype=bool)
    good = Evidence(roots=evidence.roots[ok], findings=evidence.findings[ok])
    distinct, inverse = unique_rows(good)
    post_u, _, problems = compiled.engine.posteriors_by_row(distinct)
    failed_u = [p is not None for p in problems]
    if any(failed_u):  # inference failures become row errors too, never a crash mid-file
        rows_ok = np.flatnonzero(ok)
        for j, u in enumerate(inverse):
            if failed_u[u]:
                message = str(problems[u]).split(": ", 1)[-1]
                if strict:
                    raise type(problems[u])(f"Row {row_offset + rows_ok[j] + 1}: {message}")
                errors[rows_ok[j]] = f"inference: {message}"
                ok[rows_ok[j]] = False
        keep = ~np.array(failed_u)[inverse]
        inverse = inverse[keep]
    levels_u, reasons_u = assess(kb, post_u, distinct.findings)
    post = post_u[inverse]
    return _assemble(
        df,
        kb,
        post,
        levels_u[inverse],
        [reasons_u[i] for i in inverse],
        ok,
        errors,
        top,
        id_column,
    )


def _assemble(df, kb, post, levels, reasons, ok, errors, top, id_column) -> pd.DataFrame:
    n = len(df)
    rows = np.flatnonzero(ok)

    def full(values, dtype):
        """Return a column with ``values`` on the scored rows and missing values elsewhere."""
        if dtype == "string":  # built in Arrow directly: pandas' converter is slow
            out = np.full(n, None, dtype=object)
            out[rows] = values
            return pd.arrays.ArrowStringArray(pa.array(out, type=pa.large_string()))
        data = np.zeros(n, dtype=float if dtype == "Float64" else bool)
        data[rows] = values
        mask = np.ones(n, dtype=bool)
        mask[rows] = False
        if dtype == "Float64":
            return pd.arrays.FloatingArray(data, mask)
        return pd.arrays.BooleanArray(data, mask)

    out: dict[str, Any] = {}
    if id_column:
        out[id_column] = df[id_column].to_numpy()
    out["model"] = kb.name
    out["model_version"] = kb.version
    out["model_hash"] = kb.content_hash
    out["triage"] = full(np.array(TRIAGE_LEVELS, dtype=object)[levels], "string")
    out["triage_reasons"] = full(["; ".join(r) for r in reasons], "string")
    order = np.argsort(-post, axis=1, kind="stable")[:, :top] if len(rows) else None
    cause_ids = np.array(kb.cause_ids, dtype=object)
    for k in range(top):
        cause_k = cause_ids[order[:, k]] if order is not None else []
        post_k = (
            np.take_along_axis(post, order[:, k : k + 1], axis=1)[:, 0]
            if (order is not None)
            else []
        )
        out[f"cause_{k + 1}"] = full(cause_k, "string")
        out[f"posterior_{k + 1}"] = full(post_k, "Float64")
    for j, c in enumerate(kb.cause_ids):
        out[f"p_{c}"] = full(post[:, j] if len(rows) else [], "Float64")
    for j, c in enumerate(kb.causes):
        if c.urgent:
            out[f"flag_{c.id}"] = full(
                post[:, j] >= c.action_threshold if len(rows) else [], "boolean"
            )
    out["error"] = pd.array([e or "" for e in errors], dtype="string")
    return pd.DataFrame(out, index=df.index)
