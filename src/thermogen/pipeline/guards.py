"""What a pipeline step may not overwrite: its inputs, with their run records, and run folders.

Each step lists the files it will write and checks them here (through
:func:`thermogen.fileio.check_output`) before any work, so that no output replaces an input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..fileio import check_output, npz_path
from ..models import RunDir

__all__ = ["check_outputs", "inputs_of_run", "npz_outputs", "with_record"]


def npz_outputs(out: str | Path) -> list[Path]:
    """The files a step writing ``out`` creates: the ``.npz`` and its run record."""
    path = npz_path(out)
    return [path, path.with_suffix(".run.json")]


def with_record(path: str | Path) -> list[Path]:
    """A data file and the ``.run.json`` beside it (what wrote it)."""
    path = Path(path)
    return [path, path.with_suffix(".run.json")]


def inputs_of_run(run_dir: str | Path) -> list[Path]:
    """A run folder and the training data its record names (with that file's record)."""
    data = RunDir(run_dir).record().get("settings", {}).get("data")
    return [Path(run_dir), *(with_record(data) if data else [])]


def check_outputs(
    outputs: list[Path], run_dir: str | Path | None, *inputs: Any, creates_folders: bool = False
) -> None:
    """Refuse ``outputs`` that would replace ``run_dir``'s files, its training data or any of
    ``inputs`` (paths, or datasets read from a file; None and in-memory data are skipped), or
    that cannot be written (see :func:`thermogen.fileio.check_output`)."""
    protected = inputs_of_run(run_dir) if run_dir is not None else []
    for item in inputs:
        source = getattr(item, "source", item)
        if isinstance(source, str | Path) and Path(source).exists():
            protected.extend(with_record(source))
    check_output(outputs, protected, creates_folders=creates_folders)
