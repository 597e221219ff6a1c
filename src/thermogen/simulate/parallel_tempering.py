"""The openmmtools ``ParallelTemperingSampler`` behind :func:`~thermogen.simulate.run_openmm_remd`.

:func:`create_sampler` starts a new one (minimized structure, Maxwell-Boltzmann velocities per
temperature), :func:`resume_sampler` reopens the one in a store, and :func:`propagate` runs it
iteration by iteration on the chosen platform with seeded noise and swaps. Units: K, ps, nm.
"""

from __future__ import annotations

import contextlib
import io
import json
import time as wallclock
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from ..errors import InputError
from ..systems.molecules import MolecularSystem
from .interrupts import RunInterrupted, stop_on_signal
from .openmm_remd_config import OpenMMREMDConfig
from .platforms import PlatformChoice
from .remd_store import METADATA_KEY

__all__ = ["create_sampler", "propagate", "resume_sampler"]


def create_sampler(
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
        context.setVelocitiesToTemperature(temperature, _openmm_seed(config.seed, 1, k))
        state = context.getState(getVelocities=True)
        velocities.append(
            state.getVelocities(asNumpy=True).value_in_unit(unit.nanometer / unit.picosecond)
        )
    return np.asarray(positions.value_in_unit(unit.nanometer)), velocities


def resume_sampler(reporter: Any, store: Path) -> Any:
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


def _openmm_seed(seed: int, *parts: int) -> int:
    """A positive 31-bit seed for OpenMM derived from the run seed and ``parts``."""
    return int(np.random.SeedSequence([seed, *parts]).generate_state(1)[0] % (2**31 - 2)) + 1


def propagate(
    sampler: Any,
    molecule: MolecularSystem,
    config: OpenMMREMDConfig,
    choice: PlatformChoice,
    start: int,
    store: Path,
    progress: bool,
) -> float:
    """Run iterations ``start + 1 .. n_iterations``; returns the wall time of the dynamics."""
    target = config.n_iterations
    if start >= target:
        return 0.0
    if sampler.number_of_iterations < target:
        sampler.number_of_iterations = target
    _use_own_context(sampler, molecule, config, choice, start)
    ns_per_iteration = len(config.temperatures) * config.exchange_ps * 1e-3
    began = wallclock.perf_counter()
    with (
        _swap_random_state(_openmm_seed(config.seed, 3, start)),
        stop_on_signal() as stop,
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


def _use_own_context(
    sampler: Any,
    molecule: MolecularSystem,
    config: OpenMMREMDConfig,
    choice: PlatformChoice,
    start: int,
) -> None:
    """Give ``sampler`` one OpenMM Context on the chosen platform, seeded for iteration ``start``.

    openmmtools' global context cache would let OpenMM pick its "fastest" platform, often the
    slowest for small molecules. One Context serves every temperature; creating it here with a
    seeded integrator makes the Langevin noise repeatable.
    """
    import openmm
    import openmm.unit as unit
    from openmmtools import cache, states

    contexts = cache.ContextCache(platform=choice.platform(), capacity=None, time_to_live=None)
    sampler.energy_context_cache = contexts
    sampler.sampler_context_cache = contexts
    integrator = openmm.LangevinMiddleIntegrator(
        config.temperatures[0] * unit.kelvin,
        molecule.collision_rate_per_ps / unit.picosecond,
        molecule.timestep_ps * unit.picosecond,
    )
    integrator.setRandomNumberSeed(_openmm_seed(config.seed, 2, start))
    reference = states.ThermodynamicState(molecule.system, config.temperatures[0] * unit.kelvin)
    contexts.get_context(reference, integrator)


@contextlib.contextmanager
def _swap_random_state(seed: int) -> Iterator[None]:
    """Seed numpy's global generator (openmmtools draws swaps from it), restoring it after."""
    saved = np.random.get_state()  # noqa: NPY002
    np.random.seed(seed)  # noqa: NPY002
    try:
        yield
    finally:
        np.random.set_state(saved)  # noqa: NPY002
