"""What a molecular replica-exchange run produced, read back from its store.

:func:`result_from_store` turns the iterations of a store into an :class:`OpenMMREMDResult`:
frames grouped by replica in time order (features: backbone dihedrals in radians unless the
config names others), potential energies in kJ/mol, swap acceptance and round trips. Units: K,
kJ/mol, nm, ps.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data.dataset import MultiTempDataset
from ..data.io import save_dataset
from ..provenance import run_record, write_json
from ..systems.molecules import MolecularSystem, MoleculeConfig
from ..units import KB_KJ_PER_MOL_K
from .openmm_remd_config import OpenMMREMDConfig
from .platforms import PlatformChoice
from .remd_store import StoreContents
from .round_trips import count_round_trips

__all__ = ["OpenMMREMDResult", "result_from_store"]


@dataclass(frozen=True, eq=False)
class OpenMMREMDResult:
    """What a molecular replica-exchange run produced.

    Attributes
    ----------
    dataset
        Frames grouped by replica in time order: ``features`` (``config.features``),
        ``temperature`` (K), ``energy`` (potential energy, kJ/mol), ``replica``, ``time``
        (store iteration).
    positions
        (N, n_atoms, 3) float32 coordinates in nm of the dataset's frames, row for row.
    acceptance
        (K-1,) fraction of accepted swaps between temperatures k and k+1.
    round_trips
        Lowest -> highest -> lowest temperature round trips, summed over replicas.
    ns_per_day
        Simulated ns per wall-clock day in this call, summed over replicas (nan if the store
        already held every iteration).
    platform
        The platform used and the speeds measured when choosing it.
    resumed_from
        Iteration the store held when this call started (0 for a new run).
    store
        The NetCDF store (its checkpoint file sits beside it).
    config, molecule
        The settings of the run and of the molecule.
    topology
        ``openmm.app.Topology`` of the molecule (for trajectory files).
    wall_seconds
        Wall-clock time of the dynamics in this call.
    """

    dataset: MultiTempDataset
    positions: np.ndarray
    acceptance: np.ndarray
    round_trips: int
    ns_per_day: float
    platform: PlatformChoice
    resumed_from: int
    store: Path
    config: OpenMMREMDConfig
    molecule: MoleculeConfig
    topology: Any = field(repr=False)
    wall_seconds: float = 0.0

    @property
    def iterations(self) -> int:
        """Iterations in the dataset (frames per replica)."""
        return int(self.dataset.time.max())

    def summary(self) -> str:
        """Platform and speed, swap acceptance per neighbour pair and round trips."""
        temps = self.config.temperatures
        lines = [f"platform: {self.platform.describe()}"]
        if math.isfinite(self.ns_per_day):
            per_replica = self.ns_per_day / len(temps)
            lines.append(
                f"speed: {self.ns_per_day:,.0f} ns/day over {len(temps)} replicas "
                f"({per_replica:,.0f} ns/day per replica)"
            )
        if self.resumed_from >= self.config.n_iterations:
            lines.append(
                f"the store {self.store} already holds {self.resumed_from} iterations; "
                f"nothing to simulate (the dataset has the first {self.iterations})"
            )
        elif self.resumed_from:
            lines.append(f"resumed from iteration {self.resumed_from} of {self.store}")
        lines.append("swap acceptance between neighbouring temperatures (K):")
        lines += [
            f"  {temps[k]:>8.1f} <-> {temps[k + 1]:<8.1f} {a:6.1%}"
            for k, a in enumerate(self.acceptance)
        ]
        lines.append(f"round trips (lowest -> highest -> lowest): {self.round_trips}")
        return "\n".join(lines)

    def save(self, path: str | Path, dcd: bool = False) -> tuple[Path, Path]:
        """Write the dataset (``path``, .npz), its run record (``.run.json``) and the topology.

        Parameters
        ----------
        path
            Dataset file; ``PATH.run.json`` and ``PATH.pdb`` (topology and first frame, for
            reading the store or DCDs with MDTraj) are written beside it.
        dcd
            Also write one DCD per temperature, ``PATH.T<kelvin>K.dcd``, frames in time order.

        Returns
        -------
        tuple of Path
            The dataset and the run record.
        """
        data_path = save_dataset(self.dataset, path)
        topology_path = data_path.with_suffix(".pdb")
        traj = self._trajectory(np.arange(1))
        traj.save_pdb(str(topology_path))
        dcds = self._write_dcds(data_path) if dcd else []
        settings = {
            "system": self.molecule.name,
            "molecule": asdict(self.molecule),
            **asdict(self.config),
            "n_iterations": self.config.n_iterations,
            "steps_per_iteration": self.config.steps_per_iteration(self.molecule.timestep_ps),
            "store": str(self.store),
        }
        results = {
            "platform": self.platform.name,
            "platform_ns_per_day": self.platform.ns_per_day,
            "ns_per_day": self.ns_per_day if math.isfinite(self.ns_per_day) else None,
            "swap_acceptance": self.acceptance,
            "round_trips": self.round_trips,
            "iterations": self.iterations,
            "resumed_from_iteration": self.resumed_from,
            "n_frames": self.dataset.n_frames,
            "wall_seconds": self.wall_seconds,
            "topology": str(topology_path),
            "dcd": [str(p) for p in dcds],
        }
        record = run_record("simulate", settings, self.config.seed, results)
        return data_path, write_json(data_path.with_suffix(".run.json"), record)

    def _trajectory(self, rows: np.ndarray) -> Any:
        import mdtraj

        return mdtraj.Trajectory(self.positions[rows], mdtraj.Topology.from_openmm(self.topology))

    def _write_dcds(self, data_path: Path) -> list[Path]:
        written = []
        for temperature in self.config.temperatures:
            rows = np.flatnonzero(self.dataset.temperature == temperature)
            rows = rows[np.argsort(self.dataset.time[rows], kind="stable")]
            target = data_path.with_name(f"{data_path.stem}.T{temperature:.1f}K.dcd")
            self._trajectory(rows).save_dcd(str(target))
            written.append(target)
        return written


def result_from_store(
    done: StoreContents,
    molecule: MolecularSystem,
    config: OpenMMREMDConfig,
    choice: PlatformChoice,
    start: int,
    store: Path,
    ns_per_day: float,
    elapsed: float,
) -> OpenMMREMDResult:
    """The dataset of iterations 1 .. n_iterations, per replica, and the swap statistics.

    Parameters
    ----------
    done
        Every complete iteration of the store (it may hold more than ``config.n_iterations``).
    molecule, config
        The molecule simulated and the settings of the run.
    choice
        The platform used.
    start
        Iteration the store held when the run started (0 for a new run).
    store
        The NetCDF store.
    ns_per_day
        Simulated ns per wall-clock day over all replicas (nan if nothing was simulated).
    elapsed
        Wall-clock seconds of the dynamics.
    """
    last = min(done.last_iteration, config.n_iterations)
    ladder = np.asarray(config.temperatures)
    iterations = np.arange(1, last + 1)
    states = done.states[iterations]  # (I, R)
    n_iter, n_rep = states.shape
    reduced = np.take_along_axis(done.reduced_energy[iterations], states[..., None], axis=2)[..., 0]
    energy = reduced * KB_KJ_PER_MOL_K * ladder[states]  # kJ/mol
    # frames grouped by replica, in time order: (R, I) flattened
    positions = done.positions[iterations].transpose(1, 0, 2, 3).reshape(n_rep * n_iter, -1, 3)
    featurizer = molecule.featurizer(config.features)
    dataset = MultiTempDataset(
        features=featurizer.transform_positions(positions),
        temperature=ladder[states.T.ravel()],
        energy=energy.T.ravel(),
        replica=np.repeat(np.arange(n_rep), n_iter),
        time=np.tile(iterations, n_rep),
        feature_names=featurizer.names,
        periodic=featurizer.periodic,
        internal_coordinates=featurizer.internal_coordinates,
        temperature_unit="K",
        energy_unit="kJ/mol",
        source=f"REMD {molecule.name} ({store})",
    )
    pairs = np.arange(len(ladder) - 1)
    accepted = done.accepted[iterations][:, pairs, pairs + 1].sum(axis=0)
    proposed = done.proposed[iterations][:, pairs, pairs + 1].sum(axis=0)
    acceptance = accepted / np.maximum(proposed, 1)
    return OpenMMREMDResult(
        dataset=dataset,
        positions=positions,
        acceptance=acceptance,
        round_trips=count_round_trips(done.states[: last + 1], len(ladder)),
        ns_per_day=ns_per_day,
        platform=choice,
        resumed_from=start,
        store=store,
        config=config,
        molecule=molecule.config,
        wall_seconds=elapsed,
        topology=molecule.topology,
    )
