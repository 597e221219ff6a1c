"""Errors that describe a user mistake in one line (the CLI prints them without a traceback), and
the warning for input that is legal but suspicious."""

from __future__ import annotations

import warnings
from pathlib import Path

__all__ = [
    "InputError",
    "InputWarning",
    "NonFiniteSamplesError",
    "ThermogenError",
    "UnknownNameError",
    "UsageError",
    "warn_input",
]


class ThermogenError(Exception):
    """Base class for errors caused by user input or configuration, not by a bug."""


class InputError(ThermogenError, ValueError):
    """Bad input data, naming the file and the field at fault.

    Parameters
    ----------
    source
        File the data came from (or a short description such as ``"<memory>"``).
    field
        Name of the offending field (npz key, CSV column, option name).
    problem
        What is wrong, in plain words, ideally with a hint on how to fix it.
    """

    def __init__(self, source: str | Path, field: str | None, problem: str) -> None:
        self.source = str(source)
        self.field = field
        self.problem = problem
        where = f"{self.source}: field '{field}'" if field else self.source
        super().__init__(f"{where}: {problem}")


class UsageError(ThermogenError, ValueError):
    """A command-line option, setting or API argument that makes no sense (a bad ladder, a
    value out of range); a ``ValueError`` too, as Python's own bad-value errors are."""


class UnknownNameError(UsageError, KeyError):
    """A name that is not among the known ones (a system, a model kind); a ``KeyError`` too, for
    callers that look names up like dictionary keys. Its message reads without quotes."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class NonFiniteSamplesError(ThermogenError):
    """A model generated NaN or infinite values: the fault of the run (diverged training, a
    damaged model file), not of the user's data; callers that know the run name its file."""


class InputWarning(UserWarning):
    """Input that is legal but suspicious (temperatures that look like Celsius, a truncated
    trajectory, frames out of time order, repeated frames), naming the file and the field and
    saying what to check. The CLI prints each as one ``warning:`` line."""


def warn_input(source: str | Path, field: str | None, problem: str) -> None:
    """Issue an :class:`InputWarning` worded as :class:`InputError` words its message."""
    where = f"{source}: field '{field}'" if field else str(source)
    warnings.warn(InputWarning(f"{where}: {problem}"), stacklevel=3)
