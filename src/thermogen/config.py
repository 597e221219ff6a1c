"""Reading settings from YAML into frozen dataclasses, with one-line errors naming key and file.

A YAML file holds a mapping whose keys are the dataclass's fields; nested dataclasses are nested
mappings (e.g. ``train: {steps: 4000}``). Unknown keys, wrong types and unreadable files raise
:class:`~thermogen.errors.InputError` with the dotted key (``train.steps``) and the file.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from .errors import InputError

__all__ = ["dataclass_from_mapping", "load_yaml_mapping"]

T = TypeVar("T")


def load_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """The top-level mapping of a YAML file (empty file -> empty mapping)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, "config file not found")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise InputError(path, None, f"is not valid YAML{where}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(
            path, None, f"must hold a mapping of settings, found {type(data).__name__}"
        )
    return data


def dataclass_from_mapping(
    cls: type[T], data: dict[str, Any], source: str | Path, prefix: str = ""
) -> T:
    """Build the frozen dataclass ``cls`` from ``data``, checking keys and value types.

    Parameters
    ----------
    cls
        The settings dataclass (fields with defaults are optional).
    data
        Values by field name; nested dataclasses take nested mappings.
    source
        File named in error messages.
    prefix
        Dotted path of ``data`` inside the file (for nested errors).
    """
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    values = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if key not in fields:
            close = difflib.get_close_matches(str(key), fields, n=1)
            hint = (
                f"; did you mean '{prefix}{close[0]}'?"
                if close
                else f"; known keys: {', '.join(fields)}"
            )
            raise InputError(source, dotted, f"unknown setting{hint}")
        values[key] = _convert(hints[key], value, source, dotted)
    try:
        return cls(**values)
    except (TypeError, ValueError) as err:
        raise InputError(source, prefix.rstrip(".") or None, str(err)) from None


def _convert(hint: Any, value: Any, source: str | Path, dotted: str) -> Any:
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise InputError(source, dotted, f"must be a mapping of settings, got {value!r}")
        return dataclass_from_mapping(hint, value, source, f"{dotted}.")
    options = (
        typing.get_args(hint)
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
        else (hint,)
    )
    if value is None:
        if type(None) in options:
            return None
        raise InputError(source, dotted, "must not be empty")
    for option in options:
        if option is bool and isinstance(value, bool):
            return value
        if option is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if option is float and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if option is str and isinstance(value, str):
            return value
    expected = " or ".join(
        "null" if o is type(None) else getattr(o, "__name__", str(o)) for o in options
    )
    raise InputError(source, dotted, f"must be {expected}, got {value!r}")
