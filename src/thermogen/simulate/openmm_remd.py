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

The settings, the result, the sampler and the handling of SIGINT/SIGTERM live in
:mod:`~thermogen.simulate.openmm_remd_config`, :mod:`~thermogen.simulate.openmm_remd_result`,
:mod:`~thermogen.simulate.parallel_tempering` and :mod:`~thermogen.simulate.interrupts`; the
public names are importable from here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InputError, UsageError
from ..quiet import quiet_loggers
from ..systems.molecules import MolecularSystem
from .interrupts import RunInterrupted
from .openmm_remd_config import DEFAULT_LADDER, OpenMMREMDConfig
from .openmm_remd_result import OpenMMREMDResult, result_from_store
from .parallel_tempering import create_sampler, propagate, resume_sampler
from .platforms import choose_platform
from .remd_store import (
    OPENMMTOOLS_LOGGERS,
    import_openmmtools,
    read_store,
    store_paths,
    stored_settings,
)

__all__ = [
    "DEFAULT_LADDER",
    "OpenMMREMDConfig",
    "OpenMMREMDResult",
    "RunInterrupted",
    "run_openmm_remd",
]

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
    resuming = _resumes(store, checkpoint, settings)
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
                sampler = resume_sampler(reporter, store)
            else:
                sampler = create_sampler(molecule, config, steps, settings, reporter, choice)
            start = int(sampler.iteration)
            elapsed = propagate(sampler, molecule, config, choice, start, store, progress)
        finally:
            reporter.close()
    done = read_store(store)
    speed = _ns_per_day(config, done.last_iteration - start, elapsed)
    return result_from_store(done, molecule, config, choice, start, store, speed, elapsed)


def _ns_per_day(config: OpenMMREMDConfig, n_run: int, elapsed: float) -> float:
    """Simulated ns per wall-clock day over all replicas, for ``n_run`` iterations in ``elapsed`` s.

    nan when nothing was simulated.
    """
    simulated_ns = n_run * len(config.temperatures) * config.exchange_ps * 1e-3
    return simulated_ns / elapsed * 86_400.0 if n_run > 0 and elapsed > 0 else float("nan")


def _steps(config: OpenMMREMDConfig, molecule: MolecularSystem) -> int:
    """Langevin steps per iteration; UsageError unless ``exchange_ps`` is whole time steps."""
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


def _resumes(store: Path, checkpoint: Path, settings: dict[str, Any]) -> bool:
    """Whether the run continues ``store``; refuses a checkpoint file left without its store."""
    if store.exists():
        _check_store(store, settings)
        return True
    if checkpoint.exists():
        raise InputError(
            checkpoint,
            None,
            f"is left from an earlier run whose store {store.name} is missing; delete it "
            "or start over with overwrite (--overwrite)",
        )
    return False


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
