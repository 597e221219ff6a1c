"""Users' trajectory files (DCD, XTC, NetCDF, PDB, ...) turned into a multi-temperature dataset.

Each file is one continuous trajectory (``replica`` = the file's position in the list, ``time`` =
the frame index after striding), read with MDTraj against one topology, in chunks. Its
temperature is either one value for every frame (a file simulated at one temperature) or a table
with one temperature per frame (a replica that wandered through a temperature ladder).
Potential energies, when given, come from a table with one value per frame. The table formats
are those of :func:`read_table` (:mod:`thermogen.data.frame_tables`); files are opened by
:mod:`thermogen.data.trajectory_files`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import mdtraj as md
import numpy as np
from tqdm import tqdm

from ..errors import InputError, UsageError
from .dataset import MultiTempDataset
from .featurize import Featurizer
from .frame_tables import read_table
from .suspicious import warn_if_suspicious
from .trajectory_files import (
    check_first_frame,
    count_frames,
    iter_frames,
    load_structure,
    load_topology,
    require_file,
    warn_if_truncated,
)

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
        path = require_file(item.path)
        for table in (item.temperature_table, item.energy):
            if table is not None:
                require_file(table)
        check_first_frame(path, topology, topology_source)


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
    has_energy = _energy_for_all(inputs)
    check_trajectories(inputs, topology, topology_source)
    parts = _read_all(inputs, topology, featurizer, stride, chunk, progress, topology_source)
    features, temperature, energy = (np.concatenate(arrays) for arrays in zip(*parts, strict=True))
    replica = np.concatenate([np.full(len(p[0]), i) for i, p in enumerate(parts)])
    time = np.concatenate([np.arange(len(p[0])) for p in parts])
    return warn_if_suspicious(
        MultiTempDataset(
            features=features,
            temperature=temperature,
            energy=energy if has_energy else None,
            replica=replica,
            time=time,
            feature_names=featurizer.names,
            periodic=featurizer.periodic,
            temperature_unit="K",
            energy_unit=energy_unit,
            internal_coordinates=featurizer.internal_coordinates,
            source=str(inputs[0].path),
        )
    )


def _energy_for_all(inputs: Sequence[TrajectoryInput]) -> bool:
    """Whether every file has an energy table; UsageError when only some have one."""
    with_energy = [item.energy is not None for item in inputs]
    if any(with_energy) and not all(with_energy):
        raise UsageError(
            "give an energy table for every trajectory file or for none "
            f"({sum(with_energy)} of {len(inputs)} have one)"
        )
    return all(with_energy)


def _read_all(
    inputs: Sequence[TrajectoryInput],
    topology: md.Topology,
    featurizer: Featurizer,
    stride: int,
    chunk: int,
    progress: bool,
    topology_source: str | Path,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """:func:`_read_one` of every file in order, under one progress bar over frames."""
    counts = [count_frames(item.path) for item in inputs]
    for item, count in zip(inputs, counts, strict=True):
        warn_if_truncated(item.path, count)
    total = None if None in counts else sum(-(-n // stride) for n in counts if n is not None)
    parts = []
    with tqdm(
        total=total, desc="featurize", unit="frame", disable=not progress, leave=False
    ) as bar:
        for item, count in zip(inputs, counts, strict=True):
            parts.append(
                _read_one(item, count, topology, featurizer, stride, chunk, bar, topology_source)
            )
    return parts


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
    path = require_file(item.path)
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
    for frames in iter_frames(path, topology, chunk, stride, topology_source):
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


def _text_or_none(path: Path | None) -> str | None:
    return None if path is None else str(path)
