"""A read-only view of an openmmtools MultiStateReporter store, :class:`OpenMMToolsStore`.

See :mod:`thermogen.data.openmmtools_store` for the files, their layout and units.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mdtraj as md
import numpy as np
import yaml

from ..errors import InputError, UsageError
from .store_states import (
    StoreLoader,
    potential_energies,
    state_dicts,
    temperature_ladder,
    uses_periodic_boundaries,
)

__all__ = ["OpenMMToolsStore", "default_checkpoint_path", "to_trajectory"]

_REQUIRED_VARIABLES = ("states", "energies", "last_iteration")
_FILL_LIMIT = 1e30  # NetCDF fill values (~9.97e36) mark positions that were never written


def default_checkpoint_path(path: str | Path) -> Path:
    """Where openmmtools puts the checkpoint file of store ``path``: ``remd.nc`` -> ``remd_checkpoint.nc``."""
    path = Path(path)
    return path.with_name(f"{path.stem}_checkpoint{path.suffix}")


class OpenMMToolsStore:
    """A read-only view of an openmmtools MultiStateReporter store.

    Parameters
    ----------
    path
        The analysis file (``remd.nc``).
    checkpoint
        The checkpoint file holding the positions; default ``<stem>_checkpoint<ext>`` beside it.

    Attributes
    ----------
    temperatures : numpy.ndarray
        (S,) temperature of each thermodynamic state, K.
    states : numpy.ndarray
        (I, R) int: ``states[i, r]`` is the state replica r was in at iteration i (I = last
        iteration + 1).
    reduced_potentials : numpy.ndarray
        (I, R, S) reduced potential u = U / (k_B T_s) of replica r at iteration i in state s.
    potential_energies : numpy.ndarray
        (I, R) potential energy of replica r at iteration i in kJ/mol (U + pV at constant pressure).
    accepted, proposed : numpy.ndarray or None
        (I, S, S) int: swaps accepted and proposed between states at each iteration (None when
        the store holds no mixing statistics).
    position_iterations : numpy.ndarray
        (F,) the iterations whose positions are stored (every ``checkpoint_interval``-th).
    checkpoint_interval : int
        Iterations between stored positions.
    pressure : float or None
        Pressure of the states in bar, None at constant volume.
    is_periodic : bool
        Whether the simulated system uses periodic boundary conditions.

    Raises
    ------
    InputError
        If a file is missing, is not NetCDF, is not an openmmtools store, its checkpoint file
        belongs to another run, or its states are not a temperature ladder.

    Examples
    --------
    >>> with OpenMMToolsStore("remd.nc") as store:  # doctest: +SKIP
    ...     traj = store.replica_trajectory(0, md.load_topology("ala2.pdb"))
    """

    def __init__(self, path: str | Path, checkpoint: str | Path | None = None) -> None:
        import netCDF4

        self.path = Path(path)
        self.checkpoint_path = (
            default_checkpoint_path(path) if checkpoint is None else Path(checkpoint)
        )
        self._analysis = _open_netcdf(self.path, netCDF4)
        try:
            self._read_analysis()
            self._checkpoint = _open_netcdf(self.checkpoint_path, netCDF4, checkpoint_of=self.path)
            self._read_checkpoint()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ reading
    def _read_analysis(self) -> None:
        nc, path = self._analysis, self.path
        if getattr(nc, "DataUsedFor", None) == "checkpoint":
            raise InputError(
                path,
                None,
                "is the checkpoint file of an openmmtools store; pass the analysis file "
                "(the one without '_checkpoint' in its name) and, if needed, --checkpoint",
            )
        missing = [name for name in _REQUIRED_VARIABLES if name not in nc.variables]
        if "thermodynamic_states" not in nc.groups:
            missing.append("thermodynamic_states")
        if missing:
            hint = (
                " (it looks like a trajectory: read it with --traj)"
                if "coordinates" in nc.variables
                else ""
            )
            raise InputError(
                path,
                missing[0],
                "is missing: this NetCDF file is not an openmmtools MultiStateReporter store"
                + hint,
            )
        self.checkpoint_interval = int(getattr(nc, "CheckpointInterval", 1))
        self.last_iteration = int(np.asarray(nc.variables["last_iteration"][:]).ravel()[0])
        n = self.last_iteration + 1
        states = np.asarray(nc.variables["states"][:n], dtype=np.int64)
        reduced = np.asarray(nc.variables["energies"][:n], dtype=float)
        if states.shape[0] < n or reduced.shape[0] < n:
            raise InputError(
                path, "states", f"has {states.shape[0]} iterations but the store's last is {n - 1}"
            )
        serialized = state_dicts(nc.groups["thermodynamic_states"], path)
        self.temperatures, self.pressure = temperature_ladder(serialized, path)
        n_states = self.temperatures.size
        if reduced.ndim != 3 or reduced.shape[2] != n_states or states.shape != reduced.shape[:2]:
            raise InputError(
                path,
                "energies",
                f"has shape {reduced.shape}, which does not fit {n_states} states and "
                f"states of shape {states.shape}",
            )
        if states.min() < 0 or states.max() >= n_states:
            raise InputError(path, "states", f"holds state indices outside 0..{n_states - 1}")
        neighborhoods = (
            np.asarray(nc.variables["neighborhoods"][:n], dtype=bool)
            if "neighborhoods" in nc.variables
            else np.ones(reduced.shape, dtype=bool)
        )
        self.states = states
        self.reduced_potentials = reduced
        self.potential_energies = potential_energies(
            reduced, states, self.temperatures, neighborhoods, path
        )
        self.is_periodic = uses_periodic_boundaries(serialized, path)
        self.accepted, self.proposed = (
            np.asarray(nc.variables[name][:n], dtype=np.int64) if name in nc.variables else None
            for name in ("accepted", "proposed")
        )

    def _read_checkpoint(self) -> None:
        nc, path = self._checkpoint, self.checkpoint_path
        uuid = getattr(self._analysis, "UUID", None)
        if uuid is not None and getattr(nc, "UUID", uuid) != uuid:
            raise InputError(
                path,
                "UUID",
                f"belongs to another run than {self.path} (their UUIDs differ); pass the "
                "checkpoint file written with it",
            )
        if "positions" not in nc.variables:
            raise InputError(
                path, "positions", "is missing: this is not an openmmtools checkpoint file"
            )
        positions = nc.variables["positions"]
        positions.set_auto_mask(False)
        if positions.ndim != 4 or positions.shape[1] != self.n_replicas:
            raise InputError(
                path,
                "positions",
                f"has shape {positions.shape}, not (iterations, {self.n_replicas} replicas, atoms, 3)",
            )
        rows = min(positions.shape[0], self.last_iteration // self.checkpoint_interval + 1)
        self.position_iterations = np.arange(rows) * self.checkpoint_interval
        self.n_atoms = int(positions.shape[2])
        self._positions = positions
        self._boxes = nc.variables.get("box_vectors") if self.is_periodic else None
        if self._boxes is not None:
            self._boxes.set_auto_mask(False)

    def metadata(self, key: str) -> Any:
        """The metadata entry ``key`` (openmmtools writes each as a YAML string).

        Raises
        ------
        InputError
            If the store has no such entry.
        """
        group = self._analysis.groups.get("metadata")
        if group is None or key not in group.variables:
            raise InputError(self.path, f"metadata/{key}", "is missing from the store")
        variable = group.variables[key]
        variable.set_auto_mask(False)
        text = bytes(np.asarray(variable[:]).ravel()).decode()
        return yaml.load(text, Loader=StoreLoader)

    # ------------------------------------------------------------------ properties
    @property
    def n_replicas(self) -> int:
        """Number of replicas R."""
        return self.states.shape[1]

    @property
    def n_states(self) -> int:
        """Number of thermodynamic states S."""
        return self.temperatures.size

    def frame_iterations(self, first_iteration: int = 1, stride: int = 1) -> np.ndarray:
        """(F,) stored-position iterations from ``first_iteration`` on, every ``stride``-th."""
        if first_iteration < 0:
            raise UsageError(f"--first-iteration must be 0 or more, got {first_iteration}")
        if stride < 1:
            raise UsageError(f"--stride must be at least 1, got {stride}")
        chosen = self.position_iterations[self.position_iterations >= first_iteration][::stride]
        if chosen.size == 0:
            raise InputError(
                self.checkpoint_path,
                "positions",
                f"has no positions from iteration {first_iteration} on: positions are stored "
                f"every {self.checkpoint_interval} iterations and the last iteration is "
                f"{self.last_iteration}",
            )
        return chosen

    def positions(self, iterations: np.ndarray) -> np.ndarray:
        """(F, R, n_atoms, 3) positions in nm of every replica at stored ``iterations``."""
        rows = self._rows(iterations)
        xyz = np.asarray(self._positions[rows], dtype=np.float32)
        if np.any(np.abs(xyz) > _FILL_LIMIT):
            bad = int(np.asarray(iterations)[np.any(np.abs(xyz) > _FILL_LIMIT, axis=(1, 2, 3))][0])
            raise InputError(
                self.checkpoint_path,
                "positions",
                f"of iteration {bad} were never written (was the run killed while writing?)",
            )
        return xyz

    def box_vectors(self, iterations: np.ndarray) -> np.ndarray | None:
        """(F, R, 3, 3) periodic box vectors in nm, or None for a non-periodic system."""
        if self._boxes is None:
            return None
        return np.asarray(self._boxes[self._rows(iterations)], dtype=np.float32)

    def replica_trajectory(
        self, replica: int, topology: md.Topology, first_iteration: int = 1, stride: int = 1
    ) -> md.Trajectory:
        """The continuous trajectory of one replica (through temperatures), from stored positions.

        Returns
        -------
        mdtraj.Trajectory
            F frames; ``time`` is the iteration of each frame. The temperature of frame f is
            ``temperatures[states[iterations[f], replica]]``.
        """
        if not 0 <= replica < self.n_replicas:
            raise UsageError(f"replica {replica} does not exist (0..{self.n_replicas - 1})")
        self.check_topology(topology)
        iterations = self.frame_iterations(first_iteration, stride)
        boxes = self.box_vectors(iterations)
        return to_trajectory(
            self.positions(iterations)[:, replica],
            topology,
            None if boxes is None else boxes[:, replica],
            iterations,
        )

    def check_topology(self, topology: md.Topology, source: str | Path = "the topology") -> None:
        """Raise InputError unless ``topology`` has the store's number of atoms."""
        if topology.n_atoms != self.n_atoms:
            raise InputError(
                self.checkpoint_path,
                "positions",
                f"has {self.n_atoms} atoms per frame but {source} has {topology.n_atoms}: "
                "the topology does not match the store",
            )

    def _rows(self, iterations: np.ndarray) -> np.ndarray:
        iterations = np.asarray(iterations, dtype=np.int64)
        if np.any(~np.isin(iterations, self.position_iterations)):
            raise ValueError("positions are only stored at store.position_iterations")
        return iterations // self.checkpoint_interval

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        """Close both files."""
        for name in ("_analysis", "_checkpoint"):
            handle = getattr(self, name, None)
            if handle is not None and handle.isopen():
                handle.close()

    def __enter__(self) -> OpenMMToolsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def to_trajectory(
    xyz: np.ndarray, topology: md.Topology, boxes: np.ndarray | None, time: np.ndarray
) -> md.Trajectory:
    """An MDTraj trajectory of F stored frames.

    Parameters
    ----------
    xyz
        (F, n_atoms, 3) positions in nm.
    topology
        Topology with ``n_atoms`` atoms.
    boxes
        (F, 3, 3) periodic box vectors in nm, or None for a non-periodic system.
    time
        (F,) iteration of each frame.
    """
    traj = md.Trajectory(xyz, topology, time=np.asarray(time, dtype=float))
    if boxes is not None:
        traj.unitcell_vectors = boxes
    return traj


def _open_netcdf(path: Path, netcdf: Any, checkpoint_of: Path | None = None) -> Any:
    """``path`` opened read-only with the ``netCDF4`` module; ``checkpoint_of`` names its store."""
    if not path.exists():
        if checkpoint_of is not None:
            raise InputError(
                path,
                None,
                f"does not exist: the positions of store {checkpoint_of} are in its checkpoint "
                "file; pass it with --checkpoint",
            )
        raise InputError(path, None, "does not exist")
    if not path.is_file() or path.stat().st_size == 0:
        raise InputError(path, None, "is empty or not a regular file")
    try:
        return netcdf.Dataset(str(path), "r")
    except OSError as err:
        raise InputError(
            path,
            None,
            f"is not a NetCDF file ({err.strerror or err}); an openmmtools store is the .nc "
            "file that its MultiStateReporter wrote",
        ) from None
