"""File-system helpers shared by every module that writes results."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .errors import InputError

__all__ = [
    "atomic_write",
    "available_memory",
    "byte_size",
    "check_output",
    "npz_path",
    "write_npz",
]


@contextmanager
def atomic_write(path: str | Path) -> Iterator[Path]:
    """Write a file all at once: readers see the old file or the complete new one, never a part.

    Yields a temporary path in the directory of ``path``; the caller writes the whole file there.
    On success it is flushed to disk and renamed onto ``path`` (``os.replace``, atomic on POSIX
    and Windows); on any error it is removed and ``path`` is left untouched. The new file keeps
    the permissions of the file it replaces, or gets the process's default ones.

    Parameters
    ----------
    path
        The file to create or replace. Its directory must exist.

    Examples
    --------
    >>> with atomic_write(out) as tmp:  # doctest: +SKIP
    ...     tmp.write_text("complete contents")
    """
    target = Path(path)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        _flush_to_disk(tmp)
        tmp.chmod(_mode_for(target))
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_npz(path: str | Path, arrays: dict[str, np.ndarray]) -> Path:
    """Write ``arrays`` to an ``.npz`` file atomically (``.npz`` appended when missing).

    Raises
    ------
    InputError
        One line naming the file when it cannot be written.
    """
    target = npz_path(path)
    try:
        with atomic_write(target) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, **arrays)
    except OSError as err:
        raise InputError(target, None, f"cannot be written ({err.strerror or err})") from None
    return target


def npz_path(path: str | Path) -> Path:
    """The file :func:`write_npz` writes for ``path`` (``.npz`` appended when missing)."""
    target = Path(path)
    return target if target.suffix == ".npz" else target.with_name(target.name + ".npz")


def check_output(
    outputs: list[Path], protected: list[Path], field: str = "--out", creates_folders: bool = False
) -> None:
    """Refuse, before any work, outputs that would replace an input or a run folder's file,
    or that cannot be written (their folder does not exist or is not writable).

    Parameters
    ----------
    outputs
        Every file the command will write (e.g. the ``.npz`` and its ``.run.json``).
    protected
        Inputs (files) and run folders (every file inside them is protected).
    field
        The option named in the error.
    creates_folders
        Whether the command creates missing folders of its outputs: then the nearest existing
        folder above each output must be writable, else the output's own folder.
    """
    for out in outputs:
        resolved = out.resolve()
        for guarded in protected:
            target = guarded.resolve()
            if resolved == target or (target.is_dir() and target in resolved.parents):
                raise InputError(
                    out,
                    field,
                    f"would overwrite {guarded}, an input of this command: choose another",
                )
        folder = resolved.parent
        while creates_folders and not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not folder.is_dir() or not os.access(folder, os.W_OK):
            raise InputError(out, field, f"cannot be written: {folder} is not a writable folder")


def available_memory() -> int | None:
    """Bytes of physical memory available now (None where the system does not say)."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def byte_size(n_bytes: int) -> str:
    """A byte count in words: ``2.4 GB``."""
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:.1f} {unit}"
    return f"{n_bytes} bytes"


def _flush_to_disk(path: Path) -> None:
    """Make sure the written bytes are on disk before the rename makes them visible."""
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _mode_for(target: Path) -> int:
    """Permission bits for the new file: the replaced file's, else 0o666 less the umask."""
    if target.exists():
        return target.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
