"""Run records: the resolved settings, seed and software versions written next to every output."""

from __future__ import annotations

import json
import platform
import sys
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .fileio import atomic_write

__all__ = ["run_record", "write_json"]

_TRACKED_PACKAGES = ("numpy", "scipy", "pymbar", "matplotlib", "torch", "zuko", "openmm", "mdtraj")


def run_record(
    command: str, settings: dict[str, Any], seed: int | None, results: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A JSON-ready description of one run.

    Parameters
    ----------
    command
        What ran, e.g. ``"simulate"`` or ``"demo"``.
    settings
        The fully resolved settings (defaults filled in), so the run can be repeated.
    seed
        The random seed.
    results
        Summary numbers of the run (acceptance, timings, ...).
    """
    return {
        "command": command,
        "thermogen_version": __version__,
        "seed": seed,
        "settings": settings,
        "results": results or {},
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "argv": sys.argv,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": _package_versions(),
    }


def write_json(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` as indented JSON, atomically; numpy scalars and arrays are converted."""
    path = Path(path)
    with atomic_write(path) as tmp:
        tmp.write_text(json.dumps(payload, indent=2, default=_to_json) + "\n")
    return path


def _to_json(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _package_versions() -> dict[str, str]:
    found = {}
    for name in _TRACKED_PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found
