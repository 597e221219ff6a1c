"""Running ``thermogen`` commands in-process and checking their one-line errors."""

from __future__ import annotations

import contextlib
import io

from thermogen.cli import main


def run(argv: list) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of ``thermogen ARGV``."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main([str(a) for a in argv])
        except SystemExit as exit_:  # argparse's own errors (a bad option value)
            status = exit_.code
    return status, out.getvalue(), err.getvalue()


def fails(argv: list, *fragments: str) -> str:
    """Run a command that must fail with one stderr line holding every fragment; the line."""
    status, out, err = run(argv)
    lines = err.strip().splitlines()
    assert status == 2, (out, err)
    assert len(lines) == 1, err
    assert lines[0].startswith(f"thermogen {argv[0]}: error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]
