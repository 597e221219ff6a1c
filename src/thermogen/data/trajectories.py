"""Users' trajectory files (DCD, XTC, NetCDF, PDB, ...) turned into a multi-temperature dataset.

Each file is one continuous trajectory (``replica`` = the file's position in the list, ``time`` =
the frame index after striding), read with MDTraj against one topology, in chunks. Its
temperature is either one value for every frame (a file simulated at one temperature) or a table
with one temperature per frame (a replica that wandered through a temperature ladder).
Potential energies, when given, come from a table with one value per frame.

Tables are ``.npy`` files holding a 1-D array, or text files (``.txt``, ``.dat``, ``.csv``,
``.xvg``, ...) with one number per line; blank lines, lines starting with ``#`` or ``@`` (xvg
headers) and one leading header line are skipped.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import mdtraj as md
import numpy as np
from tqdm import tqdm

from ..errors import InputError, UsageError
from .dataset import MultiTempDataset
from .featurize import Featurizer

__all__ = [
    "TrajectoryInput",
    "check_trajectories",
    "featurize_trajectories",
    "load_structure",
    "load_topology",
    "parse_trajectory_argument",
    "read_table",
]

DEFAULT_CHUNK = 1000
"""Frames read from a trajectory file at a time."""


@dataclass(frozen=True)
class TrajectoryInput:
    """One trajectory file and where its temperatures and energies come from.

    Parameters
    ----------
    path
        Trajectory file in any format MDTraj reads (DCD, XTC, TRR, NetCDF, PDB, ...).
    temperature
        Temperature of every frame in K, or None when ``temperature_table`` gives them.
    temperature_table
        Table with one temperature (K) per frame of the file, or None.
    energy
        Table with one potential energy per frame of the file, or None.
    """

    path: Path
    temperature: float | None = None
    temperature_table: Path | None = None
    energy: Path | None = None

    def __post_init__(self) -> None:
        if (self.temperature is None) == (self.temperature_table is None):
            raise UsageError(
                f"--traj {self.path}: give either one temperature or a temperature table"
            )
        if self.temperature is not None and not (
            np.isfinite(self.temperature) and self.temperature > 0
        ):
            raise UsageError(
                f"--traj {self.path}: the temperature must be positive (K), got {self.temperature:g}"
            )

    def as_record(self) -> dict[str, str | float | None]:
        """The resolved input as JSON-ready values (paths as text)."""
        return {
            "path": str(self.path),
            "temperature": self.temperature,
            "temperature_table": _text_or_none(self.temperature_table),
            "energy": _text_or_none(self.energy),
        }


def parse_trajectory_argument(text: str, energy: str | Path | None = None) -> TrajectoryInput:
    """Parse ``FILE@T`` (every frame at T kelvin) or ``FILE@TABLE`` (one temperature per frame).

    The text after the last ``@`` is a temperature when it reads as a number, else a table file.

    Parameters
    ----------
    text
        The ``--traj`` argument.
    energy
        Table of potential energies for this file, or None.
    """
    path, sep, right = text.rpartition("@")
    if not sep or not path or not right:
        raise UsageError(
            f"--traj {text!r}: give the file's temperature as FILE@T (kelvin, e.g. run.dcd@300) "
            "or a table with one temperature per frame as FILE@TABLE (e.g. rep0.dcd@rep0_T.txt)"
        )
    energy_path = None if energy is None else Path(energy)
    try:
        temperature = float(right)
    except ValueError:
        return TrajectoryInput(Path(path), temperature_table=Path(right), energy=energy_path)
    return TrajectoryInput(Path(path), temperature=temperature, energy=energy_path)


def load_topology(path: str | Path) -> md.Topology:
    """The MDTraj topology of a structure or topology file (PDB, GRO, PRMTOP, PSF, ...)."""
    path = _require_file(path)
    try:
        return md.load_topology(str(path))
    except Exception as err:  # MDTraj raises many types for unreadable files
        raise InputError(path, None, f"cannot be read as a topology ({_first_line(err)})") from None


def load_structure(path: str | Path) -> md.Trajectory:
    """Coordinates and topology of a structure file (PDB, GRO, ...), e.g. an RMSD reference."""
    path = _require_file(path)
    try:
        with _quiet_stdout():
            return md.load(str(path))
    except Exception as err:  # MDTraj raises many types for unreadable files
        raise InputError(
            path, None, f"cannot be read as a structure with coordinates ({_first_line(err)})"
        ) from None


def read_table(path: str | Path, field: str, n_frames: int | None = None) -> np.ndarray:
    """One number per frame from an ``.npy`` or text file (see the module docstring).

    Parameters
    ----------
    path
        The table.
    field
        What the values are (``"temperature"``, ``"energy"``), named in error messages.
    n_frames
        Expected number of values, or None to accept any.

    Returns
    -------
    numpy.ndarray
        (n_frames,) float values, all finite.
    """
    path = _require_file(path)
    if path.suffix.lower() == ".npy":
        try:
            values = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError):
            raise InputError(path, field, "is not a readable .npy array") from None
        if values.ndim == 2 and 1 in values.shape:
            values = values.ravel()
        if values.ndim != 1:
            raise InputError(
                path, field, f"must be a 1-D array, one value per frame; got shape {values.shape}"
            )
        try:
            values = values.astype(float)
        except (TypeError, ValueError):
            raise InputError(path, field, f"must hold numbers, got dtype {values.dtype}") from None
    else:
        values = _text_column(path, field)
    bad = ~np.isfinite(values)
    if bad.any():
        raise InputError(
            path, field, f"has a NaN or infinite value at frame {int(np.flatnonzero(bad)[0])}"
        )
    if n_frames is not None and values.size != n_frames:
        raise InputError(
            path,
            field,
            f"has {values.size} values but the trajectory has {n_frames} frames; "
            "give one value per frame",
        )
    return values


def check_trajectories(
    inputs: Sequence[TrajectoryInput],
    topology: md.Topology,
    topology_source: str | Path = "<topology>",
) -> None:
    """Check that every file and table exists and each trajectory has the topology's atoms.

    Reads the first frame of each file, so a wrong topology is reported before any work.

    Raises
    ------
    InputError
        Naming the first file that is missing, unreadable or has another number of atoms.
    """
    for item in inputs:
        path = _require_file(item.path)
        for table in (item.temperature_table, item.energy):
            if table is not None:
                _require_file(table)
        try:
            with _quiet_stdout():
                first = md.load_frame(str(path), 0, top=topology)
        except Exception as err:  # MDTraj raises many types for unreadable files
            raise _reading_error(path, err, topology, topology_source) from None
        if first.n_atoms != topology.n_atoms:
            raise _atom_count_error(path, first.n_atoms, topology.n_atoms, topology_source)


def featurize_trajectories(
    inputs: Sequence[TrajectoryInput],
    topology: md.Topology,
    featurizer: Featurizer,
    *,
    stride: int = 1,
    energy_unit: str = "kJ/mol",
    chunk: int = DEFAULT_CHUNK,
    progress: bool = False,
    topology_source: str | Path = "<topology>",
) -> MultiTempDataset:
    """Read trajectory files and compute their features.

    Parameters
    ----------
    inputs
        The files, each with its temperatures (K) and optional energies.
    topology
        Topology of every file (atom count and order must match).
    featurizer
        Features to compute, resolved against ``topology``.
    stride
        Keep every ``stride``-th frame (tables are strided alike).
    energy_unit
        Unit of the energy tables: ``"kJ/mol"`` or ``"kcal/mol"`` (converted to kJ/mol).
    chunk
        Frames read at a time.
    progress
        Show a progress bar over frames.
    topology_source
        Topology file, named in error messages.

    Returns
    -------
    MultiTempDataset
        Frames of file i have ``replica = i`` and ``time = 0, 1, ...`` (after striding);
        ``energy`` is set when every file has an energy table.

    Raises
    ------
    InputError
        For unreadable files, a topology whose atom count differs from a file's, or tables
        whose length differs from the file's number of frames.
    """
    if not inputs:
        raise UsageError("no trajectory files given")
    if stride < 1:
        raise UsageError(f"--stride must be at least 1, got {stride}")
    with_energy = [item.energy is not None for item in inputs]
    if any(with_energy) and not all(with_energy):
        raise UsageError(
            "give an energy table for every trajectory file or for none "
            f"({sum(with_energy)} of {len(inputs)} have one)"
        )
    check_trajectories(inputs, topology, topology_source)
    counts = [_count_frames(item.path) for item in inputs]
    total = None if None in counts else sum(-(-n // stride) for n in counts if n is not None)
    parts = []
    with tqdm(
        total=total, desc="featurize", unit="frame", disable=not progress, leave=False
    ) as bar:
        for item, count in zip(inputs, counts, strict=True):
            parts.append(
                _read_one(item, count, topology, featurizer, stride, chunk, bar, topology_source)
            )
    features, temperature, energy = (np.concatenate(arrays) for arrays in zip(*parts, strict=True))
    replica = np.concatenate([np.full(len(p[0]), i) for i, p in enumerate(parts)])
    time = np.concatenate([np.arange(len(p[0])) for p in parts])
    return MultiTempDataset(
        features=features,
        temperature=temperature,
        energy=energy if all(with_energy) else None,
        replica=replica,
        time=time,
        feature_names=featurizer.names,
        periodic=featurizer.periodic,
        temperature_unit="K",
        energy_unit=energy_unit,
        source=str(inputs[0].path),
    )


def _read_one(
    item: TrajectoryInput,
    count: int | None,
    topology: md.Topology,
    featurizer: Featurizer,
    stride: int,
    chunk: int,
    bar: tqdm,
    topology_source: str | Path,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features (n, D), temperatures (n,) and energies (n,) (NaN without a table) of one file."""
    path = _require_file(item.path)
    temperatures = None
    if item.temperature_table is not None:
        temperatures = read_table(item.temperature_table, "temperature", count)
        if np.any(temperatures <= 0):
            raise InputError(
                item.temperature_table,
                "temperature",
                f"must be positive (K), found {temperatures.min():g}",
            )
    energies = None if item.energy is None else read_table(item.energy, "energy", count)
    rows = []
    for frames in _chunks(path, topology, chunk, stride, topology_source):
        rows.append(featurizer.transform(frames))
        bar.update(frames.n_frames)
    if not rows:
        raise InputError(path, None, "has no frames")
    features = np.concatenate(rows)
    n_read = features.shape[0]
    if temperatures is None:
        temperature = np.full(n_read, float(item.temperature))
    else:
        temperature = _strided(temperatures, stride, n_read, item.temperature_table, path)
    energy = np.full(n_read, np.nan)
    if energies is not None:
        energy = _strided(energies, stride, n_read, item.energy, path)
    return features, temperature, energy


def _strided(
    table: np.ndarray, stride: int, n_read: int, source: Path | None, traj: Path
) -> np.ndarray:
    """Every ``stride``-th value of a per-frame table, checked against the frames read."""
    values = table[::stride]
    if values.size != n_read:
        raise InputError(
            str(source),
            None,
            f"has {table.size} values but {traj} has a different number of frames "
            f"({n_read} read with stride {stride}); give one value per frame",
        )
    return values


def _chunks(
    path: Path, topology: md.Topology, chunk: int, stride: int, topology_source: str | Path
) -> Iterator[md.Trajectory]:
    """Chunks of frames of ``path``; reader errors become one-line InputErrors."""
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


def _count_frames(path: Path) -> int | None:
    """Frames in a trajectory file, or None when the format cannot tell without reading it."""
    try:
        with _quiet_stdout(), md.open(str(path)) as handle:
            return len(handle)
    except Exception:  # unknown length or unreadable file: reading it reports the problem
        return None


def _text_column(path: Path, field: str) -> np.ndarray:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        raise InputError(path, field, "is not a readable text file") from None
    rows = [
        (number, line.strip())
        for number, line in enumerate(lines, start=1)
        if line.strip() and not line.lstrip().startswith(("#", "@"))
    ]
    if rows and not _is_number(_cells(rows[0][1])[0]):
        rows = rows[1:]  # a header line
    if not rows:
        raise InputError(path, field, "has no values")
    values = []
    for number, line in rows:
        cells = _cells(line)
        if len(cells) != 1:
            raise InputError(
                path,
                field,
                f"line {number} has {len(cells)} columns; give one value per line (per frame)",
            )
        if not _is_number(cells[0]):
            raise InputError(path, field, f"line {number} is not a number: {cells[0]!r}")
        values.append(float(cells[0]))
    return np.array(values)


def _cells(line: str) -> list[str]:
    return [cell for cell in re.split(r"[,\s;]+", line.strip()) if cell]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _require_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise InputError(path, None, "does not exist")
    if not path.is_file():
        raise InputError(path, None, "is not a regular file")
    if path.stat().st_size == 0:
        raise InputError(path, None, "is empty (0 bytes)")
    return path


def _text_or_none(path: Path | None) -> str | None:
    return None if path is None else str(path)


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    first = text.splitlines()[0].strip() if text else ""
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
