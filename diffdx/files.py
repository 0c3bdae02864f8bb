"""Score case files: CSV or Parquet in, CSV or Parquet out, streamed in chunks.

Reading and writing go chunk by chunk, so memory stays flat however long the file is.
The output is written to a temporary file beside the target and renamed at the end: an
interrupted run leaves no half-written output, and the input is never touched.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from diffdx._atomic import atomic_path
from diffdx.batch import check_columns, output_columns, score_frame
from diffdx.compiled import compile_model
from diffdx.exceptions import ColumnsError, DiffdxError, MissingDependencyError
from diffdx.ranking import ModelLike
from diffdx.triage import TRIAGE_LEVELS

__all__ = ["ScoreSummary", "iter_cases", "score_file"]

#: Rows read, scored and written at a time: about 150 MB of frames at peak, beside the
#: engine's per-case budget (:data:`diffdx.engine.MAX_CASE_BYTES`), keeps a file under 1 GB.
DEFAULT_CHUNKSIZE = 20_000


class CaseFileError(DiffdxError, ValueError):
    """A case file cannot be read (empty, wrong format, unreadable header)."""


def _format(path: str | os.PathLike[str]) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix in (".csv", ".tsv", ".txt", ".gz", ".bz2"):  # .gz, .bz2: compressed CSV
        return "csv"
    raise CaseFileError(
        f"Cannot tell the format of {str(path)!r}: use .csv (or .csv.gz, .csv.bz2) or .parquet."
    )


def _pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingDependencyError("Parquet files need pyarrow: pip install pyarrow.") from None
    return pa, pq


def read_header(path: str | os.PathLike[str], *, sep: str = ",") -> list[str]:
    """Return a case file's column names (duplicates kept, so they can be reported)."""
    if _format(path) == "parquet":
        _, pq = _pyarrow()
        return list(pq.ParquetFile(path).schema_arrow.names)
    return list(_open_csv(path, sep=sep).schema.names)


def _open_csv(path: str | os.PathLike[str], *, sep: str, columns: list[str] | None = None):
    """Arrow's streaming CSV reader: every cell text exactly as written, never null.

    Arrow reads many times faster than pandas, drops a UTF-8 byte-order mark, keeps
    quoted newlines and decompresses ``.gz`` and ``.bz2`` by their extension. A row with
    the wrong number of cells, or bytes that are not UTF-8, is a :class:`CaseFileError`.
    """
    pa, _ = _pyarrow()
    import pyarrow.csv as pa_csv

    try:
        return pa_csv.open_csv(
            os.fspath(path),
            read_options=pa_csv.ReadOptions(block_size=1 << 20),  # 1 MB: bigger costs memory
            parse_options=pa_csv.ParseOptions(delimiter=sep, newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(columns or [], pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as err:
        raise _unreadable(path, err) from None


def _unreadable(path, err: Exception) -> CaseFileError:
    if "Empty CSV file" in str(err):
        return CaseFileError(f"{os.fspath(path)!r} is empty: no header, no rows.")
    return CaseFileError(f"Cannot read {os.fspath(path)!r}: {err}")


def iter_cases(
    path: str | os.PathLike[str], *, sep: str = ",", chunksize: int = DEFAULT_CHUNKSIZE
) -> Iterator[pd.DataFrame]:
    """Yield a case file's rows in chunks of at most ``chunksize``.

    CSV cells are read as text exactly as written (a UTF-8 byte-order mark is dropped;
    quoted newlines are kept; ``.gz`` and ``.bz2`` files are decompressed); Parquet
    columns keep their types. Rows are numbered on from 0 across chunks (the index).
    """
    pa, pq = _pyarrow()
    if _format(path) == "parquet":
        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunksize):
            yield batch.to_pandas()
        return
    reader = _open_csv(path, sep=sep, columns=read_header(path, sep=sep))
    pending: list = []  # record batches not yet yielded
    n_pending = 0
    start = 0
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            batch = None
        except pa.ArrowInvalid as err:
            raise _unreadable(path, err) from None
        if batch is not None:
            pending.append(batch)
            n_pending += batch.num_rows
        while n_pending >= chunksize or (batch is None and n_pending > 0):
            table = pa.Table.from_batches(pending)
            take = min(chunksize, n_pending)
            frame = table.slice(0, take).to_pandas()
            frame.index = pd.RangeIndex(start, start + take)
            yield frame
            start += take
            rest = table.slice(take)
            pending, n_pending = rest.to_batches(), rest.num_rows
        if batch is None:
            return


@dataclass
class ScoreSummary:
    """What :func:`score_file` did."""

    rows: int = 0
    errors: int = 0
    seconds: float = 0.0
    triage: Counter = field(default_factory=Counter)
    output: str = ""

    def __str__(self) -> str:
        counts = ", ".join(f"{lvl} {self.triage.get(lvl, 0)}" for lvl in TRIAGE_LEVELS)
        rate = self.rows / self.seconds if self.seconds > 0 else float("nan")
        return (
            f"scored {self.rows - self.errors} of {self.rows} rows ({self.errors} with errors) "
            f"in {self.seconds:.1f} s ({rate:,.0f} rows/s) -> {self.output}\n"
            f"triage: {counts}\n"
            "diffdx is a research tool, not medical advice."
        )


def score_file(
    source: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    model: ModelLike = "calf_pain",
    id_column: str | None = None,
    top: int = 3,
    strict: bool = False,
    ignore_extra_columns: bool = False,
    sep: str = ",",
    chunksize: int = DEFAULT_CHUNKSIZE,
    progress: bool | None = None,
) -> ScoreSummary:
    """Score a CSV or Parquet file of case records into a CSV or Parquet file.

    Formats follow the extensions. Every input row gets one output row, in order (see
    :func:`diffdx.score_frame` for the columns). The output appears only when the whole
    file has been scored.

    Parameters
    ----------
    source, target : path-like
    model, id_column, top, strict, ignore_extra_columns
        As for :func:`diffdx.score_frame`.
    sep : str, default=","
        CSV field separator (input and output).
    chunksize : int, default=20000
        Rows read, scored and written at a time.
    progress : bool or None, default=None
        Show a progress bar on stderr; by default only when stderr is a terminal.

    Returns
    -------
    ScoreSummary
    """
    started = time.perf_counter()
    if Path(source).resolve() == Path(target).resolve():
        raise CaseFileError("The output file must not be the input file.")
    compiled = compile_model(model)
    kb = compiled.kb
    header = read_header(source, sep=sep)
    check_columns(kb, header, id_column=id_column, ignore_extra_columns=ignore_extra_columns)
    out_format = _format(target)
    summary = ScoreSummary(output=os.fspath(target))
    show = sys.stderr.isatty() if progress is None else progress
    from tqdm import tqdm

    bar = tqdm(total=None, unit=" rows", disable=not show, file=sys.stderr, leave=False)
    writer = None
    try:
        with atomic_path(target) as tmp:
            for chunk in iter_cases(source, sep=sep, chunksize=chunksize):
                if len(chunk.columns) != len(header):
                    raise ColumnsError("The file's columns changed while reading it.")
                scored = score_frame(
                    chunk,
                    model=compiled,
                    id_column=id_column,
                    top=top,
                    strict=strict,
                    ignore_extra_columns=ignore_extra_columns,
                    row_offset=summary.rows,
                )
                writer = _write_chunk(
                    scored, tmp, out_format, writer, sep=sep, first=summary.rows == 0
                )
                summary.rows += len(scored)
                summary.errors += int((scored["error"] != "").sum())
                summary.triage.update(scored["triage"].dropna().tolist())
                bar.update(len(scored))
            if summary.rows == 0:  # header only: an empty output with the full header
                empty = pd.DataFrame(columns=output_columns(kb, top=top, id_column=id_column))
                writer = _write_chunk(empty, tmp, out_format, writer, sep=sep, first=True)
            if writer is not None and out_format == "parquet":
                writer.close()
                writer = None
    finally:
        if writer is not None and out_format == "parquet":
            writer.close()
        bar.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _write_chunk(frame: pd.DataFrame, tmp: Path, fmt: str, writer, *, sep: str, first: bool):
    pa, pq = _pyarrow()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if fmt == "csv":
        _append_csv(table, tmp, sep=sep, first=first)
        return None
    if writer is None:
        writer = pq.ParquetWriter(tmp, table.schema)
    writer.write_table(table.cast(writer.schema))
    return writer


def _append_csv(table, path: Path, *, sep: str, first: bool) -> None:
    """Write ``table`` as CSV with Arrow's writer (many times faster than pandas').

    Missing values are empty cells; text is quoted; booleans are written ``True`` /
    ``False``, as pandas writes them.
    """
    import pyarrow.compute as pc
    import pyarrow.csv as pa_csv

    for i, column in enumerate(table.schema):
        if column.type == "bool":
            table = table.set_column(i, column.name, pc.if_else(table[i], "True", "False"))
    options = pa_csv.WriteOptions(include_header=first, delimiter=sep, quoting_style="needed")
    with open(path, "wb" if first else "ab") as sink:
        pa_csv.write_csv(table, sink, options)
