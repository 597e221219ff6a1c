"""Read an openmmtools replica-exchange store (MultiStateReporter NetCDF), by state or by replica.

An openmmtools ``MultiStateReporter`` writes two NetCDF files: the analysis file (``remd.nc``)
with, per iteration, ``states[iteration, replica]`` (the thermodynamic state each replica was
in) and ``energies[iteration, replica, state]`` (the reduced potential of the replica's
configuration in every state), and the checkpoint file (``remd_checkpoint.nc``) with
``positions[iteration // k, replica, atom, xyz]`` in nm, stored only every ``k =
CheckpointInterval`` iterations. At iteration i, replica r's positions are the end of its
propagation in state ``states[i, r]``, and ``energies[i, r]`` are computed on them; iteration 0
holds the starting structures (identical for every replica unless given otherwise), so reading
starts at iteration 1 by default.

Units and conventions: openmmtools' reduced potential is u = (U + pV) / (k_B T) with
k_B = 0.0083144626 kJ/(mol K), so a frame's potential energy is U = k_B T_s u[i, r, s] in kJ/mol
for the state s the replica was in (U + pV at constant pressure: the quantity MBAR needs there).
For a temperature ladder k_B T_j u[i, r, j] is the same for every state j; the reader checks this
and refuses stores whose states differ in more than temperature (alchemical or Hamiltonian
exchange). Temperatures come from the stored thermodynamic states, read as data (YAML), without
running any code stored in the file.

*By replica* (the demultiplexed trajectories) each replica is one continuous trajectory through
the temperatures: ``replica`` = replica index, ``time`` = index of the stored frame, and the
temperature changes when the replica is swapped. *By state* the frames are grouped by
thermodynamic state (temperature), in iteration order; they are not continuous trajectories, so
``replica`` and ``time`` are left out.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mdtraj as md
import numpy as np
import yaml
from tqdm import tqdm

from ..errors import InputError, UsageError
from ..units import KB_KJ_PER_MOL_K
from .dataset import MultiTempDataset
from .featurize import Featurizer

__all__ = ["OpenMMToolsStore", "default_checkpoint_path", "featurize_store"]

BY_CHOICES = ("replica", "state")
_REQUIRED_VARIABLES = ("states", "energies", "last_iteration")
_ENERGY_RTOL = 1e-6
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
        serialized = _state_dicts(nc.groups["thermodynamic_states"], path)
        self.temperatures, self.pressure = _ladder(serialized, path)
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
        self.potential_energies = _potential_energies(
            reduced, states, self.temperatures, neighborhoods, path
        )
        self.is_periodic = _uses_periodic_boundaries(serialized, path)
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
        return yaml.load(text, Loader=_StoreLoader)

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
        return _trajectory(
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


def featurize_store(
    store: OpenMMToolsStore,
    topology: md.Topology,
    featurizer: Featurizer,
    *,
    by: str = "replica",
    first_iteration: int = 1,
    stride: int = 1,
    chunk: int = 100,
    progress: bool = False,
    topology_source: str | Path = "the topology",
) -> MultiTempDataset:
    """Features of every stored frame of a store, demultiplexed by replica or grouped by state.

    Parameters
    ----------
    store
        The open store.
    topology
        Topology of the simulated system (the store has none); atom count must match.
    featurizer
        Features to compute, resolved against ``topology``.
    by
        ``"replica"``: each replica's continuous trajectory through the temperatures
        (``replica``, ``time`` set); ``"state"``: frames grouped by temperature (no trajectories).
    first_iteration
        First iteration read (default 1: iteration 0 holds the starting structures).
    stride
        Keep every ``stride``-th stored iteration.
    chunk
        Iterations read at a time.
    progress
        Show a progress bar over iterations.
    topology_source
        Topology file, named in error messages.

    Returns
    -------
    MultiTempDataset
        F * R frames with temperature (K) and energy (kJ/mol; U + pV at constant pressure).
        By replica they are ordered by replica then time; by state, by temperature then iteration.
    """
    if by not in BY_CHOICES:
        raise UsageError(f"--by must be one of {', '.join(BY_CHOICES)}, got {by!r}")
    store.check_topology(topology, topology_source)
    iterations = store.frame_iterations(first_iteration, stride)
    features = []
    with tqdm(
        total=iterations.size, desc="featurize", unit="iteration", disable=not progress, leave=False
    ) as bar:
        for block in _blocks(iterations, chunk):
            xyz = store.positions(block)
            boxes = store.box_vectors(block)
            frames = _trajectory(
                xyz.reshape(-1, *xyz.shape[2:]),
                topology,
                None if boxes is None else boxes.reshape(-1, 3, 3),
                np.repeat(block, store.n_replicas),
            )
            features.append(featurizer.transform(frames).reshape(block.size, store.n_replicas, -1))
            bar.update(block.size)
    values = np.concatenate(features)  # (F, R, D)
    states = store.states[iterations]  # (F, R)
    energy = store.potential_energies[iterations]
    temperature = store.temperatures[states]
    frame, replica = np.meshgrid(np.arange(iterations.size), np.arange(store.n_replicas))
    frame, replica = frame.T, replica.T  # (F, R) like states
    if by == "replica":
        order = np.lexsort((frame.ravel(), replica.ravel()))
        extra = {"replica": replica.ravel()[order], "time": frame.ravel()[order]}
    else:
        order = np.lexsort((replica.ravel(), frame.ravel(), states.ravel()))
        extra = {}
    return MultiTempDataset(
        features=values.reshape(-1, values.shape[2])[order],
        temperature=temperature.ravel()[order],
        energy=energy.ravel()[order],
        feature_names=featurizer.names,
        periodic=featurizer.periodic,
        temperature_unit="K",
        energy_unit="kJ/mol",
        source=str(store.path),
        **extra,
    )


# ---------------------------------------------------------------------- helpers


def _blocks(iterations: np.ndarray, size: int) -> Iterator[np.ndarray]:
    for start in range(0, iterations.size, max(1, size)):
        yield iterations[start : start + size]


def _trajectory(
    xyz: np.ndarray, topology: md.Topology, boxes: np.ndarray | None, time: np.ndarray
) -> md.Trajectory:
    traj = md.Trajectory(xyz, topology, time=np.asarray(time, dtype=float))
    if boxes is not None:
        traj.unitcell_vectors = boxes
    return traj


def _open_netcdf(path: Path, netcdf: Any, checkpoint_of: Path | None = None) -> Any:
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


class _StoreLoader(yaml.SafeLoader):
    """Safe YAML loader for openmmtools' serialized states: numbers and quantities, no code."""


def _construct_quantity(loader: _StoreLoader, node: yaml.Node) -> dict[str, Any]:
    return loader.construct_mapping(node, deep=True)


def _construct_python(loader: _StoreLoader, suffix: str, node: yaml.Node) -> Any:
    """numpy scalars and dtypes and Python tuples, decoded as data; anything else as None."""
    if suffix == "tuple":
        return tuple(loader.construct_sequence(node, deep=True))
    if suffix.startswith("object/apply:numpy") and suffix.endswith("multiarray.scalar"):
        dtype, data = loader.construct_sequence(node, deep=True)
        if isinstance(dtype, np.dtype) and isinstance(data, bytes):
            return np.frombuffer(data, dtype=dtype)[0].item()
        return None
    if suffix == "object/apply:numpy.dtype":
        fields = loader.construct_mapping(node, deep=True)
        dtype = np.dtype(fields["args"][0])
        state = fields.get("state") or ()
        return dtype.newbyteorder(state[1]) if len(state) > 1 and state[1] in "<>" else dtype
    return None


def _construct_other(loader: _StoreLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_StoreLoader.add_constructor("!Quantity", _construct_quantity)
_StoreLoader.add_multi_constructor("tag:yaml.org,2002:python/", _construct_python)
_StoreLoader.add_multi_constructor("!", _construct_other)


def _state_dicts(group: Any, path: Path) -> list[dict[str, Any]]:
    """The serialized thermodynamic states ``state0, state1, ...``, innermost state first."""
    dicts = []
    for k in range(len(group.variables)):
        name = f"state{k}"
        if name not in group.variables:
            raise InputError(path, f"thermodynamic_states/{name}", "is missing")
        variable = group.variables[name]
        variable.set_auto_mask(False)
        try:
            if variable.dtype == np.dtype("S1"):
                text = np.asarray(variable[:]).tobytes().decode()
            else:
                text = str(variable[0])
            data = yaml.load(text, Loader=_StoreLoader)  # a SafeLoader: runs no stored code
        except (yaml.YAMLError, UnicodeDecodeError, ValueError, TypeError, KeyError) as err:
            raise InputError(
                path, f"thermodynamic_states/{name}", f"cannot be read ({type(err).__name__})"
            ) from None
        while isinstance(data, dict) and "thermodynamic_state" in data:
            data = data["thermodynamic_state"]
        if not isinstance(data, dict):
            raise InputError(path, f"thermodynamic_states/{name}", "is not a serialized state")
        dicts.append(data)
    if not dicts:
        raise InputError(path, "thermodynamic_states", "holds no states")
    return dicts


def _ladder(states: list[dict[str, Any]], path: Path) -> tuple[np.ndarray, float | None]:
    """(S,) temperatures in K and the common pressure in bar (None at constant volume)."""
    temperatures = [
        _quantity(state.get("temperature"), "kelvin", path, f"thermodynamic_states/state{k}")
        for k, state in enumerate(states)
    ]
    pressures = [state.get("pressure") for state in states]
    if all(p is None for p in pressures):
        return np.array(temperatures), None
    values = [
        _quantity(p, "bar", path, f"thermodynamic_states/state{k}") for k, p in enumerate(pressures)
    ]
    if not np.allclose(values, values[0]):
        raise InputError(
            path,
            "thermodynamic_states",
            "have different pressures: this is not a temperature ladder",
        )
    return np.array(temperatures), float(values[0])


def _quantity(value: Any, unit: str, path: Path, field: str) -> float:
    if not (isinstance(value, dict) and "value" in value and "unit" in value):
        raise InputError(path, field, f"has no {unit} quantity where one was expected")
    if str(value["unit"]).strip() != unit:
        raise InputError(path, field, f"is in {value['unit']!r}, expected {unit}")
    number = value["value"]
    if not isinstance(number, int | float) or not np.isfinite(number) or number <= 0:
        raise InputError(path, field, f"holds an invalid {unit} value {number!r}")
    return float(number)


def _potential_energies(
    reduced: np.ndarray,
    states: np.ndarray,
    temperatures: np.ndarray,
    neighborhoods: np.ndarray,
    path: Path,
) -> np.ndarray:
    """(I, R) U = k_B T_s u[i, r, s] in kJ/mol, after checking the states form a temperature ladder."""
    energies = reduced * (KB_KJ_PER_MOL_K * temperatures)  # (I, R, S): k_B T_j u_j
    own = np.take_along_axis(energies, states[:, :, None], axis=2)[:, :, 0]
    if not np.all(np.isfinite(own)):
        i, r = np.argwhere(~np.isfinite(own))[0]
        raise InputError(
            path, "energies", f"has a NaN or infinite energy (iteration {i}, replica {r})"
        )
    checked = neighborhoods & np.isfinite(energies)
    scale = np.maximum(1.0, np.abs(own))[:, :, None]
    mismatch = checked & (np.abs(energies - own[:, :, None]) > _ENERGY_RTOL * scale)
    if mismatch.any():
        i, r, j = np.argwhere(mismatch)[0]
        raise InputError(
            path,
            "energies",
            f"are not one energy over k_B T (iteration {i}, replica {r}: k_B T u is "
            f"{energies[i, r, states[i, r]]:.6g} kJ/mol in its own state but {energies[i, r, j]:.6g} "
            f"in state {j}): the states differ in more than temperature, so this is not "
            "temperature replica exchange",
        )
    return own


def _uses_periodic_boundaries(states: list[dict[str, Any]], path: Path) -> bool:
    """Whether the stored OpenMM system is periodic (a vacuum system still has box vectors)."""
    import openmm

    serialized = next((s["standard_system"] for s in states if "standard_system" in s), None)
    if serialized is None:
        raise InputError(path, "thermodynamic_states", "holds no serialized OpenMM system")
    try:
        xml = zlib.decompress(serialized) if isinstance(serialized, bytes) else serialized
        if isinstance(xml, bytes):
            xml = xml.decode()
        system = openmm.XmlSerializer.deserialize(xml)
    except Exception as err:  # OpenMM raises plain Exception for bad XML
        raise InputError(
            path,
            "thermodynamic_states/state0",
            f"holds an OpenMM system that cannot be read ({type(err).__name__})",
        ) from None
    return bool(system.usesPeriodicBoundaryConditions())
