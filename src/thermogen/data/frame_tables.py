"""Per-frame tables: one number per trajectory frame (temperatures, potential energies).

Tables are ``.npy`` files holding a 1-D array, or text files (``.txt``, ``.dat``, ``.csv``,
``.xvg``, ...) with one number per line; blank lines, lines starting with ``#`` or ``@`` (xvg
headers) and one leading header line are skipped.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..errors import InputError
from .trajectory_files import require_file

__all__ = ["read_table"]


def read_table(path: str | Path, field: str, n_frames: int | None = None) -> np.ndarray:
    """One number per frame from an ``.npy`` or text file (see the module docstring).

    Parameters
    ----------
    path
        The table.
    field
        What the values are (``"temperature"``, ``"energy"``), named in error messages.
    n_frames
        Expected number of values, or None to accept any.

    Returns
    -------
    numpy.ndarray
        (n_frames,) float values, all finite.
    """
    path = require_file(path)
    if path.suffix.lower() == ".npy":
        try:
            values = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError):
            raise InputError(path, field, "is not a readable .npy array") from None
        if values.ndim == 2 and 1 in values.shape:
            values = values.ravel()
        if values.ndim != 1:
            raise InputError(
                path, field, f"must be a 1-D array, one value per frame; got shape {values.shape}"
            )
        try:
            values = values.astype(float)
        except (TypeError, ValueError):
            raise InputError(path, field, f"must hold numbers, got dtype {values.dtype}") from None
    else:
        values = _text_column(path, field)
    bad = ~np.isfinite(values)
    if bad.any():
        raise InputError(
            path, field, f"has a NaN or infinite value at frame {int(np.flatnonzero(bad)[0])}"
        )
    if n_frames is not None and values.size != n_frames:
        raise InputError(
            path,
            field,
            f"has {values.size} values but the trajectory has {n_frames} frames; "
            "give one value per frame",
        )
    return values


def _text_column(path: Path, field: str) -> np.ndarray:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        raise InputError(path, field, "is not a readable text file") from None
    rows = [
        (number, line.strip())
        for number, line in enumerate(lines, start=1)
        if line.strip() and not line.lstrip().startswith(("#", "@"))
    ]
    if rows and not _is_number(_cells(rows[0][1])[0]):
        rows = rows[1:]  # a header line
    if not rows:
        raise InputError(path, field, "has no values")
    values = []
    for number, line in rows:
        cells = _cells(line)
        if len(cells) != 1:
            raise InputError(
                path,
                field,
                f"line {number} has {len(cells)} columns; give one value per line (per frame)",
            )
        if not _is_number(cells[0]):
            raise InputError(path, field, f"line {number} is not a number: {cells[0]!r}")
        values.append(float(cells[0]))
    return np.array(values)


def _cells(line: str) -> list[str]:
    return [cell for cell in re.split(r"[,\s;]+", line.strip()) if cell]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
