"""Trajectory and structure files read with MDTraj, each problem reported in one line.

Readers' exceptions (MDTraj raises many types for unreadable files) become
:class:`~thermogen.errors.InputError` naming the file, and MDTraj's C-level chatter on standard
output (the DCD plugin prints on open) is silenced.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import mdtraj as md
import numpy as np

from ..errors import InputError, warn_input

_SHOWN_CHARS = 150
"""Characters of a reader's error message quoted in ours."""

__all__ = [
    "check_first_frame",
    "count_frames",
    "iter_frames",
    "load_structure",
    "load_topology",
    "require_file",
    "warn_if_truncated",
]


def require_file(path: str | Path) -> Path:
    """``path`` as a Path; InputError unless it is an existing, non-empty regular file."""
    path = Path(path)
    if not path.exists():
        raise InputError(path, None, "does not exist")
    if not path.is_file():
        raise InputError(path, None, "is not a regular file")
    if path.stat().st_size == 0:
        raise InputError(path, None, "is empty (0 bytes)")
    return path


def load_topology(path: str | Path) -> md.Topology:
    """The MDTraj topology of a structure or topology file (PDB, GRO, PRMTOP, PSF, ...)."""
    path = require_file(path)
    try:
        return md.load_topology(str(path))
    except Exception as err:  # MDTraj raises many types for unreadable files
        raise InputError(path, None, f"cannot be read as a topology ({_first_line(err)})") from None


def load_structure(path: str | Path) -> md.Trajectory:
    """Coordinates and topology of a structure file (PDB, GRO, ...), e.g. an RMSD reference."""
    path = require_file(path)
    try:
        with _quiet_stdout():
            return md.load(str(path))
    except Exception as err:  # MDTraj raises many types for unreadable files
        raise InputError(
            path, None, f"cannot be read as a structure with coordinates ({_first_line(err)})"
        ) from None


def check_first_frame(path: Path, topology: md.Topology, topology_source: str | Path) -> None:
    """Read frame 0 of ``path`` and check it has the topology's number of atoms.

    Raises
    ------
    InputError
        If the file cannot be read as a trajectory or has another number of atoms.
    """
    try:
        with _quiet_stdout():
            first = md.load_frame(str(path), 0, top=topology)
    except Exception as err:  # MDTraj raises many types for unreadable files
        raise _reading_error(path, err, topology, topology_source) from None
    if first.n_atoms != topology.n_atoms:
        raise _atom_count_error(path, first.n_atoms, topology.n_atoms, topology_source)


def iter_frames(
    path: Path, topology: md.Topology, chunk: int, stride: int, topology_source: str | Path
) -> Iterator[md.Trajectory]:
    """Every ``stride``-th frame of ``path``, ``chunk`` frames at a time.

    Reader errors and frames with another number of atoms than ``topology`` become one-line
    InputErrors.
    """
    frames = md.iterload(str(path), top=topology, chunk=chunk, stride=stride)
    while True:
        try:
            with _quiet_stdout():
                part = next(frames)
        except StopIteration:
            return
        except Exception as err:  # MDTraj raises many types for unreadable files
            raise _reading_error(path, err, topology, topology_source) from None
        if part.n_atoms != topology.n_atoms:  # PDB files bring their own topology
            raise _atom_count_error(path, part.n_atoms, topology.n_atoms, topology_source)
        yield part


def count_frames(path: Path) -> int | None:
    """Frames in a trajectory file, or None when the format cannot tell without reading it."""
    try:
        with _quiet_stdout(), md.open(str(path)) as handle:
            return len(handle)
    except Exception:  # unknown length or unreadable file: reading it reports the problem
        return None


def warn_if_truncated(path: Path, count: int | None) -> None:
    """Warn when a DCD file's header declares more frames than the file holds (``count``, what
    MDTraj reads): a run killed while writing, or an incomplete copy."""
    declared = _dcd_declared_frames(path)
    if count is not None and declared is not None and declared > count:
        warn_input(
            path,
            None,
            f"holds {count} whole frames but its header declares {declared}: the file looks "
            "truncated (a run stopped while writing, or an incomplete copy); only the "
            f"{count} frames are read",
        )


def _dcd_declared_frames(path: Path) -> int | None:
    """NSET, the frame count a DCD header declares (None for other files).

    Hand-read because MDTraj reports only the frames the file size allows and prints the
    header's claim to C-level standard output. The header opens with a Fortran record: its
    length (int32 84), ``CORD``, then NSET (int32), in the file's byte order.
    """
    if path.suffix.lower() != ".dcd":
        return None
    with open(path, "rb") as handle:
        head = handle.read(12)
    for order in "<>":
        if len(head) == 12 and np.frombuffer(head[:4], f"{order}i4")[0] == 84:
            return int(np.frombuffer(head[8:12], f"{order}i4")[0]) if head[4:8] == b"CORD" else None
    return None


def _reading_error(
    path: Path, err: Exception, topology: md.Topology, topology_source: str | Path
) -> InputError:
    supplied = re.search(r"supplied\s+\(\d+,\s*(\d+),\s*3\)", str(err))
    if supplied and "xyz must be shape" in str(err):
        return _atom_count_error(path, int(supplied.group(1)), topology.n_atoms, topology_source)
    hint = ""
    if _is_openmmtools_store(path):
        hint = "; it is an openmmtools MultiStateReporter store: read it with --store"
    return InputError(path, None, f"cannot be read as a trajectory ({_first_line(err)}){hint}")


def _atom_count_error(
    path: Path, n_file: int, n_topology: int, topology_source: str | Path
) -> InputError:
    return InputError(
        path,
        None,
        f"has {n_file} atoms per frame but the topology {topology_source} has {n_topology}: "
        "the topology does not match the trajectory",
    )


def _is_openmmtools_store(path: Path) -> bool:
    try:
        import netCDF4

        with netCDF4.Dataset(str(path), "r") as dataset:
            return "states" in dataset.variables and "thermodynamic_states" in dataset.groups
    except Exception:  # not NetCDF at all
        return False


def _first_line(err: BaseException) -> str:
    """The reader's error type and the first line of its message, cut to a readable length."""
    text = str(err).strip()
    first = text.splitlines()[0].strip() if text else ""
    if len(first) > _SHOWN_CHARS:
        first = first[: _SHOWN_CHARS - 4] + " ..."
    return f"{type(err).__name__}: {first}" if first else type(err).__name__


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Silence C-level writes to standard output (MDTraj's DCD plugin prints on open)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # no real file descriptor (captured)
        yield
        return
    sys.stdout.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), fd)
            try:
                yield
            finally:
                os.dup2(saved, fd)
    finally:
        os.close(saved)
