"""Reading settings from YAML into frozen dataclasses, with one-line errors naming key and file.

A YAML file holds a mapping whose keys are the dataclass's fields; nested dataclasses are nested
mappings at any depth (e.g. ``spib: {train: {steps: 4000}}``) and tuple fields are YAML lists
(``hidden: [64, 64]``). Unknown keys, wrong types, values the dataclass refuses and unreadable
files raise :class:`~thermogen.errors.InputError` with the dotted key (``spib.train.steps``,
``spib.hidden[1]``) and the file.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from .errors import InputError, UsageError
from .strict_yaml import MAX_SETTINGS_BYTES, load_settings_text, shown

__all__ = ["check_fields", "dataclass_from_mapping", "load_yaml_mapping"]

T = TypeVar("T")


def check_fields(config: Any, rules: dict[str, tuple[str, Any]]) -> None:
    """Raise :class:`UsageError` naming the first field of ``config`` that breaks its rule.

    ``rules`` maps a field name to (the requirement in words, a predicate on the value).
    """
    for name, (requirement, valid) in rules.items():
        value = getattr(config, name)
        if not valid(value):
            raise UsageError(
                f"{type(config).__name__}.{name} must be {requirement}, got {shown(value)}"
            )


def load_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """The top-level mapping of a YAML settings file (empty file -> empty mapping), read
    strictly (:mod:`thermogen.strict_yaml`: no anchors, aliases or repeated keys; at most
    :data:`~thermogen.strict_yaml.MAX_SETTINGS_BYTES`)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, "config file not found")
    if path.stat().st_size > MAX_SETTINGS_BYTES:
        raise InputError(path, None, f"is larger than {MAX_SETTINGS_BYTES:,} bytes: not settings")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(
            path, None, "is not a text (UTF-8) file: not a YAML settings file"
        ) from None
    data = load_settings_text(text, path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(
            path, None, f"must hold a mapping of settings, found {type(data).__name__}"
        )
    return data


def dataclass_from_mapping(
    cls: type[T],
    data: dict[str, Any],
    source: str | Path,
    prefix: str = "",
    base: T | None = None,
) -> T:
    """Build the frozen dataclass ``cls`` from ``data``, checking keys and value types.

    Parameters
    ----------
    cls
        The settings dataclass (fields with defaults are optional).
    data
        Values by field name; nested dataclasses take nested mappings, tuples take lists.
    source
        File named in error messages.
    prefix
        Dotted path of ``data`` inside the file (for nested errors).
    base
        Settings that ``data`` overrides (default: the class defaults). A nested mapping
        overrides the enclosing class's default for that field, so ``spib: {train: {steps:
        300}}`` keeps every other setting of ``SPIBConfig().train``.
    """
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    values = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if key not in fields:
            raise _unknown_key(source, prefix, key, fields)
        values[key] = _convert(hints[key], value, source, dotted, _field_default(fields[key], base))
    try:
        return cls(**values) if base is None else dataclasses.replace(base, **values)
    except (TypeError, ValueError, UsageError) as err:
        raise InputError(source, prefix.rstrip(".") or None, str(err)) from None


_MAX_KEY = 50
"""Longest unknown key named as a field (longer ones are quoted, cut, in the message)."""


def _unknown_key(source: str | Path, prefix: str, key: Any, fields: dict[str, Any]) -> InputError:
    """The error for ``key``, not a field: named as the field when it reads as one (a short
    printable string), else quoted in the message of its section."""
    close = difflib.get_close_matches(str(key), fields, n=1)
    hint = (
        f"; did you mean '{prefix}{close[0]}'?" if close else f"; known keys: {', '.join(fields)}"
    )
    if isinstance(key, str) and key.isprintable() and 0 < len(key) <= _MAX_KEY:
        return InputError(source, f"{prefix}{key}", f"unknown setting{hint}")
    return InputError(source, prefix.rstrip(".") or None, f"unknown setting {shown(key)}{hint}")


_NO_MATCH = object()
"""Returned by :func:`_match` when a value does not fit a type."""


def _field_default(field: dataclasses.Field, base: Any) -> Any:
    """The value a mapping for ``field`` overrides: ``base``'s, else the field's default."""
    if base is not None:
        return getattr(base, field.name)
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None


def _convert(hint: Any, value: Any, source: str | Path, dotted: str, default: Any = None) -> Any:
    """``value`` converted to the type ``hint`` (a union tries each option in turn).

    ``default`` is the field's current value: a nested mapping overrides it when it is a
    dataclass of the type being built.
    """
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
        converted = _match(option, value, source, dotted, default)
        if converted is not _NO_MATCH:
            return converted
    expected = " or ".join(_type_name(o) for o in options)
    raise InputError(source, dotted, f"must be {expected}, got {shown(value)}")


def _match(option: Any, value: Any, source: str | Path, dotted: str, default: Any = None) -> Any:
    """``value`` as type ``option``, or ``_NO_MATCH``; errors inside a fitting container raise.

    Nested dataclasses take mappings (at any depth); ``tuple[X, ...]`` and fixed-length
    ``tuple[X, Y]`` take YAML lists, each element converted and named ``key[i]`` in errors.
    """
    if dataclasses.is_dataclass(option):
        if not isinstance(value, dict):
            return _NO_MATCH
        base = default if isinstance(default, option) else None
        return dataclass_from_mapping(option, value, source, f"{dotted}.", base)
    if typing.get_origin(option) is tuple:
        args = typing.get_args(option)
        if not isinstance(value, list | tuple):
            return _NO_MATCH
        if len(args) == 2 and args[1] is Ellipsis:
            args = (args[0],) * len(value)
        elif len(value) != len(args):
            raise InputError(
                source, dotted, f"must be a list of {len(args)} values, got {len(value)}"
            )
        return tuple(
            _convert(arg, item, source, f"{dotted}[{i}]")
            for i, (arg, item) in enumerate(zip(args, value, strict=True))
        )
    if option is bool and isinstance(value, bool):
        return value
    if option is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if option is float and isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            raise InputError(source, dotted, f"is too large for a float: {shown(value)}") from None
        if not math.isfinite(number):  # .inf and .nan are never a meaningful setting
            raise InputError(source, dotted, f"must be a finite number, got {number}")
        return number
    if option is str and isinstance(value, str):
        return value
    return _NO_MATCH


def _type_name(option: Any) -> str:
    """How an expected type reads in an error message."""
    if option is type(None):
        return "null"
    if dataclasses.is_dataclass(option):
        return "a mapping of settings"
    if typing.get_origin(option) is tuple:
        args = typing.get_args(option)
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_type_name(args[0])}"
        return f"a list of {len(args)} values ({', '.join(_type_name(a) for a in args)})"
    return getattr(option, "__name__", str(option))
