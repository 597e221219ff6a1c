"""``thermogen info``: validate a dataset and print a summary."""

from __future__ import annotations

import argparse

from .common import add_csv_options, csv_options

__all__ = ["add_parser", "handle"]


def handle(args: argparse.Namespace) -> int:
    from ..data import describe, load_dataset

    dataset = load_dataset(args.file, **csv_options(args))
    if args.min_temperatures is not None:
        dataset.require_temperatures(args.min_temperatures, "this check")
    print(describe(dataset))
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add ``thermogen info`` to the subcommands."""
    info = sub.add_parser(
        "info",
        help="validate a dataset (.npz or .csv) and print a summary",
        description="Validate a multi-temperature dataset and print a summary. "
        "Exit status 0 only for valid data.",
    )
    info.add_argument("file", help="dataset file (.npz or .csv)")
    info.add_argument(
        "--min-temperatures",
        type=int,
        metavar="K",
        help="also fail unless the data cover at least K temperatures (models need 2 or more)",
    )
    add_csv_options(info)
    info.set_defaults(func=handle)
