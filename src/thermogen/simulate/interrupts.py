"""Stopping a long run cleanly: SIGINT or SIGTERM end it after the current iteration.

:func:`stop_on_signal` turns the signals into a request the run checks between iterations; the
run then raises :class:`RunInterrupted` with everything up to that iteration stored.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

__all__ = ["RunInterrupted", "StopFlag", "stop_on_signal"]


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by SIGINT or SIGTERM after a complete iteration; the store can resume."""

    def __init__(self, message: str, iteration: int) -> None:
        super().__init__(message)
        self.iteration = iteration


class StopFlag:
    """Set by :func:`stop_on_signal`: ``requested`` names the signal that asked to stop."""

    requested: str | None = None


@contextlib.contextmanager
def stop_on_signal() -> Iterator[StopFlag]:
    """SIGINT/SIGTERM ask the run to stop after the current iteration; a second SIGINT stops now."""
    flag = StopFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if flag.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        flag.requested = signal.Signals(signum).name

    saved = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield flag
    finally:
        for signum, old in saved.items():
            signal.signal(signum, old)
