"""Reading a workflow: YAML file, ``key=value`` overrides, input paths, and back to a mapping."""

from __future__ import annotations

import copy
import dataclasses
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..config import dataclass_from_mapping, load_yaml_mapping
from ..errors import InputError
from ..pipeline.simulation import MOLECULE_FILE_SUFFIXES
from ..strict_yaml import load_settings_text, shown
from .schema import ModelSettings, WorkflowConfig
from .validation import check_and_resolve, resolve_data

_PATH_KEYS = ("system", "data", "data.path", "report.reference")
"""Dotted keys holding input files (``system`` only when it names a .yaml file)."""
_TEMPERATURE_KEYS = ("simulate.temperatures", "sample.temperatures", "report.temperatures")
_SOURCE_KEYS = ("system", "simulate", "data")
"""Keys that together say where the frames come from (one error may concern any of them)."""
_COMMAND_LINE = "command line"


def load_workflow_config(path: str | Path, overrides: Sequence[str] = ()) -> WorkflowConfig:
    """Read and check a workflow YAML file, with ``key=value`` overrides applied first.

    Parameters
    ----------
    path
        The YAML file.
    overrides
        ``"model.train.steps=200"``-style settings; values are read as YAML (``[1, 2]`` is a
        list, ``null`` empties a setting) and replace the file's by dotted key.

    Raises
    ------
    InputError
        One line naming the key and the file (or the command line) for an unknown key, a
        wrong type or value, a missing input file, or settings that do not go together.
    """
    path = Path(path)
    return workflow_config_from_mapping(
        load_yaml_mapping(path), source=path, overrides=overrides, base_dir=path.parent
    )


def workflow_config_from_mapping(
    data: dict[str, Any],
    source: str | Path = "<memory>",
    overrides: Sequence[str] = (),
    base_dir: str | Path | None = None,
) -> WorkflowConfig:
    """The checked, fully resolved :class:`WorkflowConfig` of a mapping (a parsed YAML file).

    Parameters
    ----------
    data
        Settings by section, as in the YAML file.
    source
        Named in error messages.
    overrides
        ``key=value`` strings applied to ``data`` before checking.
    base_dir
        Folder that input files in ``data`` are relative to (default: the current directory).
    """
    raw = copy.deepcopy(data)
    _resolve_paths(raw, Path(base_dir) if base_dir is not None else Path.cwd())
    changed: list[str] = []
    for text in overrides:
        key, value = _parse_override(text)
        _set_dotted(raw, key, value)
        changed.append(key)
        if key in _PATH_KEYS:
            _resolve_paths(raw, Path.cwd(), only=key)
    try:
        return _build(raw, str(source))
    except InputError as err:
        where = err.field or ""
        by_hand = any(
            where == key
            or where.startswith((f"{key}.", f"{key}["))
            or key.startswith(f"{where}.")
            or (where in _SOURCE_KEYS and key.split(".")[0] in _SOURCE_KEYS)
            for key in changed
        )
        if not by_hand:
            raise
        raise InputError(f"{_COMMAND_LINE} (overriding {source})", err.field, err.problem) from None


def workflow_config_to_mapping(config: WorkflowConfig) -> dict[str, Any]:
    """``config`` as plain YAML-ready settings that load back to the same config."""
    mapping = {
        "system": config.system,
        "simulate": _asdict(config.simulate),
        "data": _asdict(resolve_data(config)),
        "model": {"kind": config.model.kind, **config.model.config.to_dict()},
        "sample": _asdict(config.sample),
        "report": _asdict(config.report),
        "out": os.path.abspath(config.out),
        "seed": config.seed,
    }
    return _plain(mapping)


def _asdict(settings: Any) -> dict[str, Any] | None:
    """A settings dataclass as a dict (None stays None)."""
    return None if settings is None else dataclasses.asdict(settings)


def _plain(value: Any) -> Any:
    """Tuples as lists and numpy scalars as Python numbers, at any depth."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _parse_override(text: str) -> tuple[str, Any]:
    """``"a.b=VALUE"`` as the key and the value read as YAML (``1:5:4`` stays text)."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not re.fullmatch(r"[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*", key):
        raise InputError(
            _COMMAND_LINE, None, f"{shown(text)} is not KEY=VALUE (e.g. model.train.steps=200)"
        )
    try:  # read strictly: plain PyYAML raises ValueError for 2001-02-30, !!int x, ...
        parsed = load_settings_text(value, _COMMAND_LINE)
    except InputError:
        parsed = value
    if ":" in value and isinstance(parsed, int | float):
        parsed = value  # a ladder TMIN:TMAX:N, not YAML 1.1's base-60 number
    return key, parsed


def _section(node: dict[str, Any], name: str) -> Any:
    """``node[name]``, an empty mapping put there first when it is missing or null."""
    if node.get(name) is None:
        node[name] = {}
    return node[name]


def _set_dotted(raw: dict[str, Any], key: str, value: Any) -> None:
    """Set ``raw[a][b] = value`` for ``key = "a.b"``, creating missing sections."""
    node = raw
    parts = key.split(".")
    for depth, part in enumerate(parts[:-1]):
        node = _section(node, part)
        if not isinstance(node, dict):
            where = ".".join(parts[: depth + 1])
            raise InputError(
                _COMMAND_LINE, key, f"cannot be set: '{where}' is {shown(node)}, not a mapping"
            )
    node[parts[-1]] = value


def _get_dotted(raw: dict[str, Any], key: str) -> Any:
    """``raw[a][b]`` for ``key = "a.b"``, or None when a level is missing."""
    node: Any = raw
    for part in key.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _resolve_paths(raw: dict[str, Any], base: Path, only: str | None = None) -> None:
    """Make the input files named in ``raw`` absolute, relative ones taken from ``base``."""
    for key in _PATH_KEYS if only is None else (only,):
        value = _get_dotted(raw, key)
        if not isinstance(value, str) or not value:
            continue
        if key == "system" and Path(value).suffix.lower() not in MOLECULE_FILE_SUFFIXES:
            continue
        _set_dotted(raw, key, os.path.abspath(base / Path(value).expanduser()))


def _build(raw: dict[str, Any], source: str) -> WorkflowConfig:
    """Check ``raw`` (after overrides) and resolve its defaults."""
    for key in _TEMPERATURE_KEYS:
        value = _get_dotted(raw, key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise InputError(
                source,
                key,
                f"is the number {shown(value)}: write a list [T1, T2, ...] or a quoted ladder "
                "'TMIN:TMAX:N' (YAML reads an unquoted 1:5:4 as a base-60 number)",
            )
    if "source" in raw:
        raise InputError(source, "source", "unknown setting (the config file is the source)")
    top = {key: value for key, value in raw.items() if key != "model"}
    config = dataclass_from_mapping(WorkflowConfig, top, source)
    model = _model_settings(raw.get("model"), config.seed, source)
    try:
        return check_and_resolve(dataclasses.replace(config, model=model, source=source))
    except OSError as err:  # checking that a named file exists: a name too long, no access
        raise InputError(
            source,
            None,
            f"names a path that cannot be used ({err.strerror}): {shown(err.filename)}",
        ) from None


def _model_settings(raw: Any, seed: int, source: str) -> ModelSettings:
    """``model:`` as :class:`ModelSettings`, the top-level seed filling unset model seeds."""
    from ..models import MODEL_CONFIGS, model_class

    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise InputError(source, "model", f"must be a mapping of settings, got {shown(raw)}")
    kind = raw.get("kind", "diffusion")
    if not isinstance(kind, str) or kind not in MODEL_CONFIGS:
        raise InputError(
            source, "model.kind", f"must be one of {', '.join(MODEL_CONFIGS)}, got {shown(kind)}"
        )
    settings = {key: value for key, value in raw.items() if key != "kind"}
    for path in model_class(kind).seed_stages:
        node = settings
        for part in path:
            node = _section(node, part)
            if not isinstance(node, dict):
                break
        else:
            node.setdefault("seed", seed)
    config = dataclass_from_mapping(MODEL_CONFIGS[kind], settings, source, "model.")
    return ModelSettings(kind, config)
