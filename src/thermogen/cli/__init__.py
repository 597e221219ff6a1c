"""The ``thermogen`` command line: a thin shell over the Python API.

One module per subcommand, its parser beside its handler; each handler parses its arguments,
calls the pipeline (:mod:`thermogen.pipeline`) or another API function and prints the result's
summary. User mistakes (:class:`~thermogen.errors.ThermogenError`) are printed as one line on
stderr with exit status 2 and no traceback; suspicious input
(:class:`~thermogen.errors.InputWarning`) as one ``warning:`` line each. Only a genuine internal
error prints a traceback, with a line asking for a bug report (exit status 70).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .. import __version__
from ..errors import InputWarning, ThermogenError
from . import demo, featurize, info, melt, report, run, sample, simulate, train, transform
from .common import OneLineParser

__all__ = ["build_parser", "main"]

COMMANDS = (info, simulate, train, transform, sample, melt, featurize, run, demo, report)
"""The subcommands' modules, in the order ``thermogen --help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``thermogen`` command, one subparser per subcommand."""
    parser = OneLineParser(
        prog="thermogen",
        description="Temperature-transferable generative models for multi-temperature simulation data.",
    )
    parser.add_argument("--version", action="version", version=f"thermogen {__version__}")
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=OneLineParser
    )
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def _use_file_backend() -> None:
    """Draw with matplotlib's Agg backend: the commands write figures to files, never windows."""
    import matplotlib

    matplotlib.use("Agg")


class _Terminated(BaseException):
    """SIGTERM, raised where the command is, so that every ``finally`` (temporary files,
    locks) runs before the process ends."""


def _terminate(signum: int, frame: Any) -> None:
    raise _Terminated


@contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """Turn SIGTERM into :class:`_Terminated` inside the block (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _warnings_as_lines(command: str) -> Iterator[None]:
    """Inside the block, print every :class:`InputWarning` as one line on stderr (the warnings
    machinery is restored afterwards; other warnings are shown as Python shows them)."""
    with warnings.catch_warnings():
        shown_before = warnings.showwarning
        warnings.simplefilter("always", InputWarning)

        def show(
            message: Warning | str,
            category: type[Warning],
            filename: str,
            lineno: int,
            file: Any = None,
            line: str | None = None,
        ) -> None:
            if issubclass(category, InputWarning):
                print(f"thermogen {command}: warning: {message}", file=sys.stderr)
            else:
                shown_before(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        yield


def _internal_error(command: str) -> int:
    """A genuine bug: the traceback, then one line asking for a report (exit status 70)."""
    traceback.print_exc()
    print(
        f"thermogen {command}: internal error in thermogen {__version__} (a bug, not your "
        "input): please report it to the thermogen developers with the command line, the "
        "output of `thermogen --version` and the traceback above",
        file=sys.stderr,
    )
    return 70


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit status (2 for a user mistake, 1 when the
    system refuses (out of memory, disk full), 70 for an internal error, 130 for Ctrl-C, 143
    for SIGTERM)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    _use_file_backend()
    try:
        with _sigterm_unwinds(), _warnings_as_lines(args.command):
            return func(args)
    except ThermogenError as err:
        print(f"thermogen {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"thermogen {args.command}: interrupted", file=sys.stderr)
        return 130
    except _Terminated:
        print(f"thermogen {args.command}: terminated", file=sys.stderr)
        return 143
    except BrokenPipeError:  # e.g. `thermogen info data.npz | head`: the reader left early
        sys.stderr.close()  # nothing more can be reported; keep Python quiet at exit
        return 0
    except MemoryError:
        print(f"thermogen {args.command}: error: out of memory: ask for less", file=sys.stderr)
        return 1
    except OSError as err:  # the system refused: disk full, permissions, a vanished file
        print(f"thermogen {args.command}: error: {err}", file=sys.stderr)
        return 1
    except Exception:  # last resort: anything else is a bug in thermogen
        return _internal_error(args.command)
