"""The ``diffdx`` command line: a thin layer over the library functions.

``main(argv)`` returns the exit code (0 ok, 1 data or model error, 2 usage error), so it is
testable without a subprocess. Heavy imports happen inside the commands.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from diffdx._version import __version__
from diffdx.exceptions import DiffdxError

__all__ = ["main"]

log = logging.getLogger("diffdx")

DISCLAIMER = "diffdx is a research tool, not medical advice."


def _add_model_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        default="calf_pain",
        help="a bundled model's name or the path of a model YAML file (default: calf_pain)",
    )


def cmd_model(args: argparse.Namespace) -> int:
    """Print a model's summary."""
    from diffdx import load_kb, model_summary

    print(model_summary(load_kb(args.model)))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write the model's network as BIF or XMLBIF."""
    from diffdx import load_kb, to_bif, to_xmlbif

    kb = load_kb(args.model)
    fmt = args.format or ("xmlbif" if args.output.endswith((".xml", ".xmlbif")) else "bif")
    (to_bif if fmt == "bif" else to_xmlbif)(kb, args.output)
    print(f"wrote {args.output} ({fmt}, model {kb.name} v{kb.version} {kb.short_hash})")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Check the model against published tables; exit 1 if a check fails unexplained.

    With ``--strict``, a documented miss counts as a failure too.
    """
    from diffdx.validation import FAIL, PASS, run, to_markdown, to_text

    df = run(args.model)
    print(to_markdown(df).rstrip("\n") if args.markdown else to_text(df))
    failed = df["result"] != PASS if args.strict else df["result"] == FAIL
    return 1 if bool(failed.any()) else 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Summarise the model, rank one example case, score the bundled example file."""
    from diffdx import rank_causes
    from diffdx.datasets import example_case, example_cases_path
    from diffdx.files import score_file

    cmd_model(args)
    case = example_case()
    print("\nExample case:", ", ".join(f"{k}={v}" for k, v in case.items()))
    ranking = rank_causes(case, model=args.model, top=8)
    print(ranking)
    print("\nWhy calf_strain:", ranking.reasons("calf_strain"))
    source = example_cases_path()
    print(f"\nScoring the bundled example records ({source.name}):")
    summary = score_file(source, args.output, model=args.model, id_column="id")
    print(summary)
    return 0


def _csv_list(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def cmd_score(args: argparse.Namespace) -> int:
    """Score a CSV or Parquet file of case records."""
    from diffdx.files import DEFAULT_CHUNKSIZE, score_file

    summary = score_file(
        args.input,
        args.output,
        model=args.model,
        id_column=args.id_column,
        top=args.top,
        strict=args.strict,
        ignore_extra_columns=args.ignore_extra_columns,
        sep=args.sep,
        chunksize=DEFAULT_CHUNKSIZE if args.chunksize is None else args.chunksize,
    )
    print(summary, file=sys.stderr)
    return 0


def cmd_rank(args: argparse.Namespace) -> int:
    """Rank the causes of one case given on the command line."""
    from diffdx import rank_causes

    case: dict[str, object] = {}
    for name in _csv_list(args.yes or ""):
        case[name] = "yes"
    for name in _csv_list(args.no or ""):
        if name in case:
            raise DiffdxError(f"{name!r} is given both with --yes and --no.")
        case[name] = "no"
    if args.age is not None:
        case["age"] = args.age
    if args.sex is not None:
        case["sex"] = args.sex
    ranking = rank_causes(case, model=args.model, top=args.top)
    print(ranking)
    flagged = ranking.frame[ranking.frame["flagged"]]["cause"].tolist()
    for cause in list(dict.fromkeys([ranking.frame.iloc[0]["cause"], *flagged]))[:4]:
        if len(ranking.contributions):
            print(f"why {cause}: {ranking.reasons(cause)}")
    print("\nAsk or test next:")
    for row in ranking.next_questions(top=args.questions).itertuples():
        print(f"  {row.variable:<34} {row.information_bits:.3f} bits  {row.question}")
    return 0


def cmd_variables(args: argparse.Namespace) -> int:
    """List every variable a case may give, its meaning and accepted values."""
    from diffdx import load_kb
    from diffdx.evidence import ACCEPTED_BINARY, ACCEPTED_SEX

    kb = load_kb(args.model)
    bands = ", ".join(f"{b.id} from {b.min_age}" for b in kb.age_bands)
    rows = [
        ("age", "demographic", "Age in years", f"a number >= {kb.age_bands[0].min_age} ({bands})"),
        ("sex", "demographic", "Sex", ACCEPTED_SEX),
        *((r.id, "risk factor", r.label, ACCEPTED_BINARY) for r in kb.risk_factors),
        *(
            (f.id, f"{f.kind}{' (red flag)' if f.red_flag else ''}", f.label, ACCEPTED_BINARY)
            for f in kb.findings
        ),
    ]
    width = max(len(r[0]) for r in rows)
    for name, kind, label, accepted in rows:
        print(f"{name:<{width}}  {kind:<18} {label}  [{accepted}]")
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    """Write an empty CSV with every column a case file may have."""
    from diffdx import load_kb
    from diffdx._atomic import atomic_open
    from diffdx.evidence import variable_names

    kb = load_kb(args.model)
    with atomic_open(args.output, "w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(["id", *variable_names(kb)]) + "\n")
    print(f"wrote {args.output}: the columns id, {', '.join(variable_names(kb)[:3])}, ...")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``diffdx`` command."""
    parser = argparse.ArgumentParser(
        prog="diffdx",
        description=f"Bayesian differential diagnosis of calf pain. {DISCLAIMER}",
    )
    parser.add_argument("--version", action="version", version=f"diffdx {__version__}")
    parser.add_argument("--verbose", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("model", help="print a model's summary: layers and sources of numbers")
    _add_model_option(p)
    p.set_defaults(func=cmd_model)

    p = sub.add_parser("export", help="write the model's network as BIF or XMLBIF")
    _add_model_option(p)
    p.add_argument("-o", "--output", required=True, help="output file (.bif, .xml or .xmlbif)")
    p.add_argument("--format", choices=["bif", "xmlbif"], help="default: from the extension")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser(
        "validate",
        help="check the model against published tables (exit 1 if one fails unexplained)",
    )
    _add_model_option(p)
    p.add_argument("--markdown", action="store_true", help="print the full report as Markdown")
    p.add_argument("--strict", action="store_true", help="exit 1 on documented misses too")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("demo", help="the main job on the bundled model and example cases")
    _add_model_option(p)
    p.add_argument(
        "-o",
        "--output",
        default="scored_example_cases.csv",
        help="where to write the scored example records",
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("score", help="score a CSV or Parquet file of case records")
    p.add_argument("input", help="case records (.csv, .csv.gz, .csv.bz2 or .parquet)")
    p.add_argument("-o", "--output", required=True, help="scored records (.csv or .parquet)")
    _add_model_option(p)
    p.add_argument("--id-column", help="a column copied to the output unchanged")
    p.add_argument("--top", type=int, default=3, help="causes named per row (default: 3)")
    p.add_argument("--strict", action="store_true", help="stop at the first invalid cell")
    p.add_argument(
        "--ignore-extra-columns",
        action="store_true",
        help="skip columns that are not model variables (e.g. notes)",
    )
    p.add_argument("--sep", default=",", help="CSV field separator (default: ,)")
    p.add_argument("--chunksize", type=int, help="rows per chunk (default: 20000)")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("rank", help="rank the causes of one case given on the command line")
    _add_model_option(p)
    p.add_argument("--yes", help="comma-separated variables that are present")
    p.add_argument("--no", help="comma-separated variables that are absent")
    p.add_argument("--age", type=float, help="age in years")
    p.add_argument("--sex", help="F or M")
    p.add_argument("--top", type=int, default=10, help="causes shown (default: 10)")
    p.add_argument("--questions", type=int, default=5, help="suggestions shown (default: 5)")
    p.set_defaults(func=cmd_rank)

    p = sub.add_parser("variables", help="list every case variable and its accepted values")
    _add_model_option(p)
    p.set_defaults(func=cmd_variables)

    p = sub.add_parser("template", help="write an empty CSV with every column")
    _add_model_option(p)
    p.add_argument("-o", "--output", required=True, help="the CSV to write")
    p.set_defaults(func=cmd_template)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

    Returns
    -------
    int
        0 on success, 1 for a data or model error, 2 for a usage error.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s: %(message)s",
    )
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except (DiffdxError, OSError) as exc:
        if args.verbose:
            raise
        print(f"diffdx: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("diffdx: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
