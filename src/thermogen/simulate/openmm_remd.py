"""Temperature replica exchange of molecules with OpenMM and openmmtools, resumable.

:func:`run_openmm_remd` runs ``openmmtools.multistate.ParallelTemperingSampler``: one replica
per temperature of the ladder, ``exchange_ps`` of Langevin dynamics (OpenMM's
``LangevinMiddleIntegrator``) per iteration, then swap attempts between neighbouring
temperatures (alternating even and odd pairs). Every iteration is written to a NetCDF store
(``MultiStateReporter``: ``STORE.nc`` for energies, states and swap statistics,
``STORE_checkpoint.nc`` for positions and velocities, every iteration), so a killed run
continues from its last complete iteration when called again with the same store.

Frames go into a :class:`~thermogen.data.MultiTempDataset` per replica, so each ``replica`` is
one continuous trajectory in configuration space whose temperature changes at accepted swaps;
``time`` is the iteration index of the store (1, 2, ...; iteration 0 is the starting structure
and is not a frame). Units: K, kJ/mol, nm, ps; features are backbone dihedrals in radians.

Reproducibility: on the Reference platform a fresh run with the same seed repeats exactly
(the seed sets the starting velocities, the Langevin noise and the swap draws). A resumed run
restarts from single-precision coordinates in the store, so it continues the same ensemble but
not the same numbers as an uninterrupted run.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import signal
import threading
import time as wallclock
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import numpy as np
from tqdm import tqdm

from ..data.dataset import MultiTempDataset
from ..data.io import save_dataset
from ..errors import InputError, UsageError
from ..provenance import run_record, write_json
from ..quiet import quiet_loggers
from ..systems.molecules import MolecularSystem, MoleculeConfig
from ..units import KB_KJ_PER_MOL_K
from .platforms import PlatformChoice, choose_platform
from .remd_store import (
    METADATA_KEY,
    OPENMMTOOLS_LOGGERS,
    StoreContents,
    import_openmmtools,
    read_store,
    store_paths,
    stored_settings,
)
from .round_trips import count_round_trips

__all__ = [
    "DEFAULT_LADDER",
    "OpenMMREMDConfig",
    "OpenMMREMDResult",
    "RunInterrupted",
    "run_openmm_remd",
]

DEFAULT_LADDER = "300:600:8"
"""Default ladder for molecules: 8 temperatures from 300 K to 600 K, geometric."""
_MATCHING_SETTINGS = (
    "system",
    "n_atoms",
    "temperatures",
    "timestep_ps",
    "collision_rate_per_ps",
    "steps_per_iteration",
    "forcefield",
    "constraints",
)
"""Settings a resumed run must share with its store."""


@dataclass(frozen=True)
class OpenMMREMDConfig:
    """Settings of a molecular replica-exchange run (Langevin settings come with the molecule).

    Attributes
    ----------
    temperatures
        Ladder of K >= 2 temperatures in K (ascending).
    ns
        Simulated time per replica, ns (default 5).
    exchange_ps
        Dynamics between swap attempts, ps (one iteration; default 1 ps = 500 steps of 2 fs).
        Must be a whole number of time steps.
    platform
        ``"auto"`` (time every OpenMM platform on a few steps and take the fastest) or a
        platform name: ``"Reference"``, ``"CPU"``, ``"CUDA"``, ``"OpenCL"``.
    seed
        Seed of the starting velocities, the Langevin noise and the swap draws.
    minimize
        Minimize the starting structure once before a new run.
    """

    temperatures: tuple[float, ...]
    ns: float = 5.0
    exchange_ps: float = 1.0
    platform: str = "auto"
    seed: int = 0
    minimize: bool = True

    def __post_init__(self) -> None:
        temps = tuple(float(t) for t in self.temperatures)
        if len(temps) < 2:
            raise ValueError(f"replica exchange needs 2 or more temperatures, got {temps}")
        if any(t <= 0 for t in temps) or list(temps) != sorted(set(temps)):
            raise ValueError(f"temperatures must be positive, distinct and ascending, got {temps}")
        object.__setattr__(self, "temperatures", temps)
        if not (self.ns > 0 and math.isfinite(self.ns)):
            raise ValueError(f"ns must be a positive number of nanoseconds, got {self.ns}")
        if not (self.exchange_ps > 0 and math.isfinite(self.exchange_ps)):
            raise ValueError(f"exchange_ps must be > 0, got {self.exchange_ps}")
        if self.n_iterations < 1:
            raise ValueError(
                f"ns = {self.ns} is shorter than one exchange interval ({self.exchange_ps} ps)"
            )

    @property
    def n_iterations(self) -> int:
        """Replica-exchange iterations (swap attempts) that make ``ns`` per replica."""
        return round(self.ns * 1000.0 / self.exchange_ps)

    def steps_per_iteration(self, timestep_ps: float) -> int:
        """Langevin steps per iteration for a time step in ps.

        Raises
        ------
        ValueError
            If ``exchange_ps`` is not a whole number of time steps.
        """
        steps = round(self.exchange_ps / timestep_ps)
        if steps < 1 or abs(steps * timestep_ps - self.exchange_ps) > 1e-6 * self.exchange_ps:
            raise ValueError(
                f"exchange_ps = {self.exchange_ps} is not a whole number of {timestep_ps} ps steps"
            )
        return steps


@dataclass(frozen=True, eq=False)
class OpenMMREMDResult:
    """What a molecular replica-exchange run produced.

    Attributes
    ----------
    dataset
        Frames grouped by replica in time order: ``features`` (backbone dihedrals, radians),
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


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by SIGINT or SIGTERM after a complete iteration; the store can resume."""

    def __init__(self, message: str, iteration: int) -> None:
        super().__init__(message)
        self.iteration = iteration


def run_openmm_remd(
    molecule: MolecularSystem,
    config: OpenMMREMDConfig,
    store: str | Path,
    progress: bool = True,
    overwrite: bool = False,
) -> OpenMMREMDResult:
    """Run (or resume) temperature replica exchange of ``molecule`` and read the frames back.

    Parameters
    ----------
    molecule
        The molecule (see :func:`thermogen.systems.molecules.build_molecule`).
    config
        Ladder, length, exchange interval, platform and seed.
    store
        NetCDF store (``.nc``; the checkpoint file ``<stem>_checkpoint.nc`` sits beside it).
        If it exists, the run continues from its last complete iteration up to
        ``config.n_iterations``; a store that already holds them is only read.
    progress
        Show a progress bar over iterations with the speed in ns/day.
    overwrite
        Delete an existing store first and start over.

    Returns
    -------
    OpenMMREMDResult
        The dataset of iterations 1 .. ``config.n_iterations`` and the run statistics.

    Raises
    ------
    InputError
        If an existing store was made with other settings (temperatures, time step, ...) or
        is not a complete openmmtools store.
    RunInterrupted
        On SIGINT or SIGTERM, after the current iteration is stored.
    """
    store, checkpoint = store_paths(store)
    if overwrite:
        store.unlink(missing_ok=True)
        checkpoint.unlink(missing_ok=True)
    steps = _steps(config, molecule)
    settings = _settings(molecule, config, steps)
    resuming = store.exists()
    if resuming:
        _check_store(store, settings)
    elif checkpoint.exists():
        raise InputError(
            checkpoint,
            None,
            f"is left from an earlier run whose store {store.name} is missing; delete it "
            "or start over with overwrite (--overwrite)",
        )
    choice = choose_platform(
        molecule.system,
        molecule.positions,
        config.platform,
        timestep_ps=molecule.timestep_ps,
        collision_rate_per_ps=molecule.collision_rate_per_ps,
    )
    multistate = import_openmmtools().multistate
    with quiet_loggers(*OPENMMTOOLS_LOGGERS):
        reporter = multistate.MultiStateReporter(str(store), checkpoint_interval=1)
        try:
            if resuming:
                sampler = _resume(reporter, store)
            else:
                sampler = _create(molecule, config, steps, settings, reporter, choice)
            start = int(sampler.iteration)
            elapsed = _propagate(sampler, molecule, config, choice, start, store, progress)
        finally:
            reporter.close()
    done = read_store(store)
    n_run = done.last_iteration - start
    simulated_ns = n_run * len(config.temperatures) * config.exchange_ps * 1e-3
    speed = simulated_ns / elapsed * 86_400.0 if n_run > 0 and elapsed > 0 else float("nan")
    return _result(done, molecule, config, choice, start, store, speed, elapsed)


# ---------------------------------------------------------------------- setup


def _steps(config: OpenMMREMDConfig, molecule: MolecularSystem) -> int:
    try:
        return config.steps_per_iteration(molecule.timestep_ps)
    except ValueError as err:
        raise UsageError(str(err)) from None


def _settings(molecule: MolecularSystem, config: OpenMMREMDConfig, steps: int) -> dict[str, Any]:
    """What the store records about the run, to check a resumed run against."""
    return {
        "system": molecule.name,
        "n_atoms": molecule.n_atoms,
        "temperatures": list(config.temperatures),
        "timestep_ps": molecule.timestep_ps,
        "collision_rate_per_ps": molecule.collision_rate_per_ps,
        "steps_per_iteration": steps,
        "forcefield": list(molecule.config.forcefield_files),
        "constraints": molecule.config.constraints,
        "seed": config.seed,
    }


def _check_store(store: Path, settings: dict[str, Any]) -> None:
    """Refuse a store that is not ours or was made with other settings."""
    stored = stored_settings(store)
    for key in _MATCHING_SETTINGS:
        if stored.get(key) != settings[key]:
            raise InputError(
                store,
                key,
                f"the store was made with {key} = {stored.get(key)!r}, this run asks for "
                f"{settings[key]!r}; use another output name or start over (--overwrite)",
            )


def _create(
    molecule: MolecularSystem,
    config: OpenMMREMDConfig,
    steps: int,
    settings: dict[str, Any],
    reporter: Any,
    choice: PlatformChoice,
) -> Any:
    """A new ParallelTemperingSampler writing to ``reporter`` (a ``MultiStateReporter``)."""
    import openmm.unit as unit
    from openmmtools import mcmc, multistate, states

    positions, velocities = _starting_states(molecule, config, choice)
    reference = states.ThermodynamicState(molecule.system, config.temperatures[0] * unit.kelvin)
    move = mcmc.LangevinDynamicsMove(
        timestep=molecule.timestep_ps * unit.picosecond,
        collision_rate=molecule.collision_rate_per_ps / unit.picosecond,
        n_steps=steps,
        reassign_velocities=False,
    )
    sampler = multistate.ParallelTemperingSampler(
        mcmc_moves=move,
        number_of_iterations=config.n_iterations,
        online_analysis_interval=None,
        replica_mixing_scheme="swap-neighbors",
    )
    with contextlib.redirect_stdout(io.StringIO()):  # citations
        sampler.create(
            reference,
            [
                states.SamplerState(
                    positions * unit.nanometer, velocities=v * unit.nanometer / unit.picosecond
                )
                for v in velocities
            ],
            reporter,
            temperatures=[t * unit.kelvin for t in config.temperatures],
            n_temperatures=len(config.temperatures),
            metadata={METADATA_KEY: json.dumps(settings)},
        )
    return sampler


def _starting_states(
    molecule: MolecularSystem, config: OpenMMREMDConfig, choice: PlatformChoice
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Minimized positions (nm) and Maxwell-Boltzmann velocities (nm/ps) per temperature."""
    import openmm
    import openmm.unit as unit

    integrator = openmm.VerletIntegrator(molecule.timestep_ps)
    context = openmm.Context(molecule.system, integrator, choice.platform())
    context.setPositions(molecule.positions)
    context.applyConstraints(1e-6)
    if config.minimize:
        openmm.LocalEnergyMinimizer.minimize(context, 1.0, 2000)
    positions = context.getState(getPositions=True).getPositions(asNumpy=True)
    velocities = []
    for k, temperature in enumerate(config.temperatures):
        context.setVelocitiesToTemperature(temperature, _seed(config.seed, 1, k))
        state = context.getState(getVelocities=True)
        velocities.append(
            state.getVelocities(asNumpy=True).value_in_unit(unit.nanometer / unit.picosecond)
        )
    return np.asarray(positions.value_in_unit(unit.nanometer)), velocities


def _resume(reporter: Any, store: Path) -> Any:
    """The sampler of an existing store, at its last complete iteration."""
    from openmmtools import multistate

    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return multistate.ParallelTemperingSampler.from_storage(reporter)
    except Exception as err:  # openmmtools raises plain exceptions on damaged stores
        raise InputError(
            store,
            None,
            f"cannot be resumed ({type(err).__name__}: {err}); start over with --overwrite",
        ) from None


def _seed(seed: int, *parts: int) -> int:
    """A positive 31-bit seed for OpenMM derived from the run seed and ``parts``."""
    return int(np.random.SeedSequence([seed, *parts]).generate_state(1)[0] % (2**31 - 2)) + 1


# ---------------------------------------------------------------------- dynamics


def _propagate(
    sampler: Any,
    molecule: MolecularSystem,
    config: OpenMMREMDConfig,
    choice: PlatformChoice,
    start: int,
    store: Path,
    progress: bool,
) -> float:
    """Run iterations ``start + 1 .. n_iterations``; returns the wall time of the dynamics."""
    import openmm
    import openmm.unit as unit
    from openmmtools import cache, states

    target = config.n_iterations
    if start >= target:
        return 0.0
    if sampler.number_of_iterations < target:
        sampler.number_of_iterations = target
    # Our own context cache on the chosen platform (openmmtools' global one would let OpenMM
    # pick its "fastest" platform, often the slowest for small molecules). One Context serves
    # every temperature; creating it here with a seeded integrator makes the noise repeatable.
    contexts = cache.ContextCache(platform=choice.platform(), capacity=None, time_to_live=None)
    sampler.energy_context_cache = contexts
    sampler.sampler_context_cache = contexts
    integrator = openmm.LangevinMiddleIntegrator(
        config.temperatures[0] * unit.kelvin,
        molecule.collision_rate_per_ps / unit.picosecond,
        molecule.timestep_ps * unit.picosecond,
    )
    integrator.setRandomNumberSeed(_seed(config.seed, 2, start))
    reference = states.ThermodynamicState(molecule.system, config.temperatures[0] * unit.kelvin)
    contexts.get_context(reference, integrator)

    ns_per_iteration = len(config.temperatures) * config.exchange_ps * 1e-3
    began = wallclock.perf_counter()
    with (
        _swap_random_state(_seed(config.seed, 3, start)),
        _stop_on_signal() as stop,
        tqdm(
            total=target,
            initial=start,
            desc=f"REMD {molecule.name}",
            unit="iter",
            disable=not progress,
            mininterval=0.5,
        ) as bar,
    ):
        while sampler.iteration < target:
            sampler.run(1)
            elapsed = wallclock.perf_counter() - began
            bar.update(1)
            bar.set_postfix(
                ns_day=f"{(sampler.iteration - start) * ns_per_iteration / elapsed * 86_400:,.0f}",
                refresh=False,
            )
            if stop.requested and sampler.iteration < target:
                raise RunInterrupted(
                    f"stopped by {stop.requested} at iteration {sampler.iteration} of {target}; "
                    f"the store {store} keeps every iteration: run the "
                    "same command again to continue",
                    int(sampler.iteration),
                )
    return wallclock.perf_counter() - began


@contextlib.contextmanager
def _swap_random_state(seed: int) -> Iterator[None]:
    """Seed numpy's global generator (openmmtools draws swaps from it), restoring it after."""
    saved = np.random.get_state()  # noqa: NPY002
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(saved)  # noqa: NPY002


class _StopFlag:
    requested: str | None = None


@contextlib.contextmanager
def _stop_on_signal() -> Iterator[_StopFlag]:
    """SIGINT/SIGTERM ask the run to stop after the current iteration; a second SIGINT stops now."""
    flag = _StopFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        if flag.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        flag.requested = signal.Signals(signum).name

    saved = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield flag
    finally:
        for signum, old in saved.items():
            signal.signal(signum, old)


def _result(
    done: StoreContents,
    molecule: MolecularSystem,
    config: OpenMMREMDConfig,
    choice: PlatformChoice,
    start: int,
    store: Path,
    ns_per_day: float,
    elapsed: float,
) -> OpenMMREMDResult:
    """The dataset of iterations 1 .. n_iterations, per replica, and the swap statistics."""
    last = min(done.last_iteration, config.n_iterations)
    ladder = np.asarray(config.temperatures)
    iterations = np.arange(1, last + 1)
    states = done.states[iterations]  # (I, R)
    n_iter, n_rep = states.shape
    reduced = np.take_along_axis(done.reduced_energy[iterations], states[..., None], axis=2)[..., 0]
    energy = reduced * KB_KJ_PER_MOL_K * ladder[states]  # kJ/mol
    # frames grouped by replica, in time order: (R, I) flattened
    positions = done.positions[iterations].transpose(1, 0, 2, 3).reshape(n_rep * n_iter, -1, 3)
    features, names, periodic = molecule.features(positions)
    dataset = MultiTempDataset(
        features=features,
        temperature=ladder[states.T.ravel()],
        energy=energy.T.ravel(),
        replica=np.repeat(np.arange(n_rep), n_iter),
        time=np.tile(iterations, n_rep),
        feature_names=names,
        periodic=periodic,
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
