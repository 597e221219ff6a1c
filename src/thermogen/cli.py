"""The ``thermogen`` command line: a thin shell over the Python API.

Every subcommand parses its arguments, calls one API function and prints its result. User
mistakes (:class:`~thermogen.errors.ThermogenError`) are printed as one line on stderr with exit
status 2 and no traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from . import __version__
from .errors import ThermogenError

__all__ = ["build_parser", "main"]


def _cmd_info(args: argparse.Namespace) -> int:
    from .data import describe, load_dataset

    dataset = load_dataset(args.file)
    print(describe(dataset))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``thermogen`` command, one subparser per subcommand."""
    parser = argparse.ArgumentParser(
        prog="thermogen",
        description="Temperature-transferable generative models for multi-temperature simulation data.",
    )
    parser.add_argument("--version", action="version", version=f"thermogen {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    info = sub.add_parser(
        "info",
        help="validate a dataset (.npz or .csv) and print a summary",
        description="Validate a multi-temperature dataset and print a summary. "
        "Exit status 0 only for valid data.",
    )
    info.add_argument("file", help="dataset file (.npz or .csv)")
    info.set_defaults(func=_cmd_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except ThermogenError as err:
        print(f"thermogen {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"thermogen {args.command}: interrupted", file=sys.stderr)
        return 130
