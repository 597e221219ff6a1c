"""Silencing other packages' loggers for the duration of one call, never globally."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["quiet_loggers"]


@contextmanager
def quiet_loggers(*names: str, level: int = logging.ERROR) -> Iterator[None]:
    """Set the loggers ``names`` to ``level`` inside the block and restore their levels after.

    Only the named loggers' own levels change (their children inherit them unless they set
    their own); handlers and the root logger are untouched. The previous levels come back on
    exit, also when the block raises.

    Parameters
    ----------
    names
        Logger names, e.g. ``"pymbar"``.
    level
        The level while inside the block (default ``logging.ERROR``: warnings are dropped).

    Examples
    --------
    >>> import logging
    >>> logger = logging.getLogger("chatty")
    >>> with quiet_loggers("chatty"):
    ...     logger.level == logging.ERROR
    True
    >>> logger.level == logging.NOTSET
    True
    """
    loggers = [logging.getLogger(name) for name in names]
    previous = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(level)
    try:
        yield
    finally:
        for logger, old in zip(loggers, previous, strict=True):
            logger.setLevel(old)
