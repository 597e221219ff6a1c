"""Column, feature and unit names read from files: one printable line of a readable length."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..errors import InputError
from ..strict_yaml import shown

__all__ = ["MAX_NAME", "check_name", "listed"]

MAX_NAME = 100
"""Longest column or feature name (characters)."""


def listed(names: Sequence[str]) -> str:
    """``names`` comma-separated (unprintable ones quoted), cut to about 100 characters."""
    text = ", ".join(name if name.isprintable() else shown(name) for name in names)
    return text if len(text) <= MAX_NAME else text[: MAX_NAME - 4] + " ..."


def check_name(path: Path, field: str | None, name: str, where: str) -> None:
    """A column or feature name is one printable line of at most ``MAX_NAME`` characters (it
    is quoted in messages and tables)."""
    if len(name) > MAX_NAME:
        raise InputError(
            path, field, f"{where} is a name of {len(name)} characters (at most {MAX_NAME})"
        )
    if not name.isprintable():
        raise InputError(
            path, field, f"{where} has a line break or control character: {shown(name)}"
        )
