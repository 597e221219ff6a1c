"""Reading a dataset from a CSV file: a header row of named columns, one frame per row.

The ``temperature`` column is required; ``energy``, ``replica`` and ``time`` are optional and every
other column is a feature. Every problem raises :class:`~thermogen.errors.InputError` naming the
file and the column (or line).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..strict_yaml import shown
from .dataset import MultiTempDataset
from .names import check_name, listed

__all__ = ["CSV_COLUMNS", "load_csv"]

CSV_COLUMNS = ("temperature", "energy", "replica", "time")
"""The columns that are not features."""


def load_csv(
    path: Path, temperature_unit: str, energy_unit: str, periodic: Sequence[str] | None
) -> MultiTempDataset:
    """Read a CSV file: named columns, features are those not named in ``CSV_COLUMNS``."""
    header, rows, lines = _csv_rows(path)
    if "temperature" not in header:
        raise InputError(
            path, "temperature", f"column is missing from the header (found: {listed(header)})"
        )
    columns = {
        name: _csv_column(path, name, cells, lines)
        for name, cells in zip(header, zip(*rows, strict=True), strict=True)
    }
    names = [name for name in header if name not in CSV_COLUMNS]
    features = np.array([columns[name] for name in names]).reshape(len(names), len(rows)).T
    return MultiTempDataset(
        features=np.ascontiguousarray(features),
        temperature=columns["temperature"],
        energy=columns.get("energy"),
        replica=columns.get("replica"),
        time=columns.get("time"),
        feature_names=names,
        periodic=_periodic_mask(path, names, periodic),
        temperature_unit=temperature_unit,
        energy_unit=energy_unit,
        source=str(path),
    )


def _csv_rows(path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    """Header names, data rows (blank lines skipped) and each row's line number."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [name.strip() for name in next(reader, [])]
            rows, lines = [], []
            for row in reader:
                if row:
                    rows.append(row)
                    lines.append(reader.line_num)
    except (UnicodeDecodeError, csv.Error):
        raise InputError(path, None, "is not a readable UTF-8 CSV text file") from None
    _check_header(path, header)
    if not rows:
        raise InputError(path, None, "has a header but no data rows")
    for row, line in zip(rows, lines, strict=True):
        if len(row) != len(header):
            raise InputError(
                path,
                None,
                f"line {line} has {len(row)} cells but the header has {len(header)} columns",
            )
    return header, rows, lines


def _check_header(path: Path, header: list[str]) -> None:
    """The header must exist and name every column once, each in one printable line."""
    if not header:
        raise InputError(path, None, "has no header row (expected e.g. 'temperature,x0,x1')")
    for position, name in enumerate(header, start=1):
        if not name:
            raise InputError(path, None, f"header column {position} has no name")
        check_name(path, None, name, f"header column {position}")
        if header.count(name) > 1:
            raise InputError(path, name, "appears more than once in the header")


def _csv_column(path: Path, name: str, cells: Sequence[str], lines: list[int]) -> np.ndarray:
    """(N,) floats parsed from one column's cells; the first bad cell is reported by line."""
    try:
        return np.array(cells, dtype=float)
    except ValueError:
        row = next(i for i, cell in enumerate(cells) if not _is_number(cell))
        raise InputError(
            path, name, f"has a non-numeric value {shown(cells[row])} on line {lines[row]}"
        ) from None


def _is_number(cell: str) -> bool:
    """Whether ``float`` (the parser numpy uses for strings) accepts the cell."""
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _periodic_mask(path: Path, names: list[str], periodic: Sequence[str] | None) -> np.ndarray:
    """(D,) bool, True for the feature columns named in ``periodic`` (one name or several)."""
    wanted = [periodic] if isinstance(periodic, str) else list(periodic or [])
    unknown = [name for name in wanted if name not in names]
    if unknown:
        raise InputError(
            path,
            "periodic",
            f"names {shown(unknown[0])}, which is not a feature column "
            f"(features: {listed(names) or 'none'})",
        )
    return np.array([name in wanted for name in names], dtype=bool)
