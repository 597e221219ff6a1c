"""Reading settings files as YAML, strictly: settings never need anchors, aliases or a key
twice, so a file with any of them is refused before anything is built from it.

This bounds the cost of a hostile file (an alias bomb expands to gigabytes from a few hundred
bytes; here its first alias is an error) and catches a silent mistake (a repeated key whose
later value wins). PyYAML's ``SafeLoader`` still does the parsing and never builds Python
objects from tags.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

import yaml

from .errors import InputError

__all__ = ["MAX_SETTINGS_BYTES", "load_settings_text", "shown"]

MAX_SETTINGS_BYTES = 1_000_000
"""Largest settings file read (bytes); real ones are a few kB."""
_SHOWN_CHARS = 100
"""Characters of a value quoted in an error message."""
MAX_DEPTH = 50
"""Deepest nesting of lists and mappings read (settings nest a few levels; PyYAML builds
nested values recursively, so a deeper document would exhaust Python's stack)."""


def shown(value: Any) -> str:
    """``repr(value)``, cut to about 100 characters for an error message."""
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 5] + " ...'"


def load_settings_text(text: str, source: str | Path) -> Any:
    """The YAML document ``text`` (from ``source``) as plain data, refusing anchors, aliases,
    duplicate keys and documents over :data:`MAX_SETTINGS_BYTES`.

    Raises
    ------
    InputError
        Naming ``source`` (and the line) for each of those, or for text that is not YAML.
    """
    if len(text.encode("utf-8", "surrogatepass")) > MAX_SETTINGS_BYTES:
        raise InputError(source, None, f"is larger than {MAX_SETTINGS_BYTES:,} bytes: not settings")
    try:
        depth = 0
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            _refuse_anchor(event, source)
            depth += isinstance(event, yaml.CollectionStartEvent)
            depth -= isinstance(event, yaml.CollectionEndEvent)
            if depth > MAX_DEPTH:
                raise InputError(
                    source,
                    None,
                    f"nests lists or mappings more than {MAX_DEPTH} deep at line "
                    f"{event.start_mark.line + 1}: not settings",
                )
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or getattr(err, "reason", None)  # ReaderError
        problem = _cut(problem or "unreadable")
        raise InputError(source, None, f"is not valid YAML{where} ({problem})") from None


def _cut(problem: str) -> str:
    """PyYAML's description of a problem on one line, cut to about 200 characters (it may quote
    a tag or a value whole)."""
    text = " ".join(problem.split())
    return text if len(text) <= 2 * _SHOWN_CHARS else text[: 2 * _SHOWN_CHARS - 4] + " ..."


def _refuse_anchor(event: yaml.Event, source: str | Path) -> None:
    """Refuse an alias (``*name``) or an anchor (``&name``) with the line it is on."""
    anchor = getattr(event, "anchor", None)
    if isinstance(event, yaml.AliasEvent) or anchor is not None:
        raise InputError(
            source,
            None,
            f"uses a YAML anchor or alias ({'*' if isinstance(event, yaml.AliasEvent) else '&'}"
            f"{anchor}) at line {event.start_mark.line + 1}: settings files take plain values",
        )


class _UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader whose mappings refuse a key given twice."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"a {type(key).__name__} cannot be a key (line {key_node.start_mark.line + 1})",
                key_node.start_mark,
            )
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"the key {shown(key)} is given twice (lines {seen[key] + 1} and "
                f"{key_node.start_mark.line + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=True)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def _checked_scalar(tag: str) -> Callable[[_UniqueKeyLoader, yaml.ScalarNode], Any]:
    """SafeLoader's constructor of the scalar ``tag``, with the Python errors it raises for a
    malformed value (``!!int x``, ``!!bool maybe``, ``2001-02-30``, an int of 5000 digits)
    turned into YAML errors at the value's line."""
    construct = yaml.SafeLoader.yaml_constructors[f"tag:yaml.org,2002:{tag}"]

    def checked(loader: _UniqueKeyLoader, node: yaml.ScalarNode) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, KeyError, IndexError, AttributeError, OverflowError):
            raise yaml.constructor.ConstructorError(
                None, None, f"{shown(node.value)} is not a valid {tag}", node.start_mark
            ) from None

    return checked


for _tag in ("bool", "int", "float", "timestamp"):
    _UniqueKeyLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _checked_scalar(_tag))
