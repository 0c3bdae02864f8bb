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


def cmd_demo(args: argparse.Namespace) -> int:
    """Print the model's summary and rank the bundled example case."""
    from diffdx import rank_causes
    from diffdx.datasets import example_case

    cmd_model(args)
    case = example_case()
    print("\nExample case:", ", ".join(f"{k}={v}" for k, v in case.items()))
    ranking = rank_causes(case, model=args.model, top=8)
    print(ranking)
    print("\nWhy calf_strain:", ranking.reasons("calf_strain"))
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

    p = sub.add_parser("demo", help="the main job on the bundled model and example cases")
    _add_model_option(p)
    p.set_defaults(func=cmd_demo)
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
