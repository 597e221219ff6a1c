"""What several subcommands share: the one-line argument parser, CSV loader options, option
refusals and temperature lists."""

from __future__ import annotations

import argparse
from typing import NoReturn

import numpy as np

from ..errors import UsageError

__all__ = [
    "OneLineParser",
    "add_csv_options",
    "csv_options",
    "device_option",
    "given_options",
    "refuse_options",
    "temperatures_option",
]


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def csv_options(args: argparse.Namespace) -> dict[str, object]:
    """Loader options that only CSV files take (npz files carry their own units)."""
    options = {
        "temperature_unit": args.temperature_unit,
        "energy_unit": args.energy_unit,
        "periodic": args.periodic.split(",") if args.periodic else None,
    }
    return {key: value for key, value in options.items() if value is not None}


def add_csv_options(parser: argparse.ArgumentParser) -> None:
    """``--temperature-unit``, ``--energy-unit`` and ``--periodic`` for CSV input."""
    group = parser.add_argument_group("CSV input (npz files store these themselves)")
    group.add_argument("--temperature-unit", choices=["K", "reduced"], help="default K")
    group.add_argument(
        "--energy-unit", choices=["kJ/mol", "kcal/mol", "reduced"], help="default kJ/mol"
    )
    group.add_argument(
        "--periodic",
        metavar="NAMES",
        help="comma-separated feature columns that are angles in radians",
    )


def given_options(args: argparse.Namespace, names: tuple[str, ...]) -> dict[str, object]:
    """The options among ``names`` that the command line set."""
    return {name: getattr(args, name) for name in names if getattr(args, name) not in (None, False)}


def refuse_options(args: argparse.Namespace, names: tuple[str, ...], kind: str) -> None:
    """Refuse the first of ``names`` that is set: an option for ``kind`` only."""
    given = list(given_options(args, names))
    if given:
        raise UsageError(f"--{given[0].replace('_', '-')} is an option for {kind} only")


def temperatures_option(text: str | None) -> np.ndarray | None:
    """A ``--temperatures`` value ('T1,T2,...' or 'TMIN:TMAX:N') as an array (None stays None)."""
    from ..simulate import parse_temperatures

    if text is None:
        return None
    try:
        return parse_temperatures(text)
    except ValueError as err:
        raise UsageError(f"--temperatures: {err}") from None


def device_option(text: str) -> str:
    """A ``--device`` value, checked to name a device this machine has (an argparse type)."""
    from ..train import resolve_device

    try:
        resolve_device(text)
    except UsageError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text
