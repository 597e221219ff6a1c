"""pymbar, imported once and quietly for the modules of :mod:`thermogen.analysis`.

On import pymbar logs a banner about JAX and a warning about its ``timeseries`` module; both are
dropped here, without changing pymbar's logger level for later calls.
"""

from __future__ import annotations

import contextlib
import io

from thermogen.quiet import quiet_loggers

with (
    quiet_loggers("pymbar"),
    contextlib.redirect_stdout(io.StringIO()),
    contextlib.redirect_stderr(io.StringIO()),
):
    import pymbar

__all__ = ["pymbar"]
