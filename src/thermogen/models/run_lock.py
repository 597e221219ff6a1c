"""Who may write a run folder: one process at a time, and never over a finished run by accident.

The lock is a file beside the folder (``.NAME.lock``, so that it survives the folder being
swapped by ``--overwrite``), held with ``filelock`` (an OS-level lock: a killed holder's lock is
released by the operating system, so a stale lock is simply taken over). The holder writes its
pid and start time next to it, for the message a second writer gets.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from filelock import FileLock, Timeout

from ..errors import InputError, UsageError

__all__ = ["TEMPORARY_PATTERN", "holds_run", "locked", "replace_folder", "sweep_temporary"]

TEMPORARY_PATTERN = ".*.tmp"
"""Names of the temporary files :func:`thermogen.fileio.atomic_write` leaves if killed."""
_RUN_FILES = ("config.json", "model.pt", "checkpoints", "stages", "train_log.csv")


def _lock_paths(run_dir: Path) -> tuple[Path, Path]:
    """The lock file and its owner record, beside ``run_dir``."""
    base = run_dir.parent / f".{run_dir.name}"
    return Path(f"{base}.lock"), Path(f"{base}.lock.owner")


@contextmanager
def locked(run_dir: str | Path) -> Iterator[None]:
    """Hold ``run_dir``'s writer lock inside the block; refuse at once (one line naming the
    holder's pid and start) when another process holds it."""
    run_dir = Path(run_dir)
    if run_dir.exists() and not run_dir.is_dir():
        raise InputError(run_dir, None, "is a file, not a run folder: choose another --out")
    lock_path, owner_path = _lock_paths(run_dir)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(lock_path, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise UsageError(f"{run_dir}: {_holder(owner_path)}; wait for it to end") from None
    try:
        started = datetime.now(timezone.utc).isoformat(timespec="seconds")
        owner_path.write_text(json.dumps({"pid": os.getpid(), "started_utc": started}))
        yield
    finally:
        owner_path.unlink(missing_ok=True)
        lock.release()


def _holder(owner_path: Path) -> str:
    """Who holds the lock, in words."""
    try:
        owner = json.loads(owner_path.read_text())
        return f"another thermogen process (pid {owner['pid']}, since {owner['started_utc']}) is writing it"
    except (OSError, ValueError, KeyError, TypeError):
        return "another thermogen process is writing it"


def holds_run(run_dir: str | Path) -> bool:
    """Whether ``run_dir`` already holds (part of) a training run."""
    return any((Path(run_dir) / name).exists() for name in _RUN_FILES)


def sweep_temporary(run_dir: str | Path) -> list[Path]:
    """Remove the temporary files a killed writer left in ``run_dir`` (call under the lock)."""
    leftovers = [p for p in Path(run_dir).rglob(TEMPORARY_PATTERN) if p.is_file()]
    for path in leftovers:
        path.unlink(missing_ok=True)
    return leftovers


def replace_folder(old: Path, new: Path) -> None:
    """Put the complete folder ``new`` in the place of ``old`` (under the lock)."""
    retired = old.with_name(f".{old.name}.replaced")
    shutil.rmtree(retired, ignore_errors=True)
    if old.exists():
        old.rename(retired)
    new.rename(old)
    shutil.rmtree(retired, ignore_errors=True)
