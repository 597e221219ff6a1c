"""Plain Langevin dynamics of a molecule at one temperature: the equal-cost baseline of the
alanine-dipeptide benchmarks (one frame per ps, after 100 ps of equilibration)."""

from __future__ import annotations

import numpy as np

from thermogen.systems.molecules import MolecularSystem

FRAME_PS = 1.0
"""Direct simulations save a frame every ps, like the replica-exchange iterations."""
EQUILIBRATION_PS = 100.0
"""Discarded before the first frame."""


def direct_simulation(
    molecule: MolecularSystem, temperature: float, ns: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Positions (frames, n_atoms, 3) in nm and potential energies (frames,) in kJ/mol of
    Langevin dynamics at ``temperature`` (K) for ``ns``, started from the minimised structure."""
    import openmm
    import openmm.unit as unit

    integrator = openmm.LangevinMiddleIntegrator(
        temperature * unit.kelvin,
        molecule.collision_rate_per_ps / unit.picosecond,
        molecule.timestep_ps * unit.picosecond,
    )
    integrator.setRandomNumberSeed(seed + 1)
    context = openmm.Context(
        molecule.system, integrator, openmm.Platform.getPlatformByName("Reference")
    )
    context.setPositions(molecule.positions)
    openmm.LocalEnergyMinimizer.minimize(context)
    context.setVelocitiesToTemperature(temperature * unit.kelvin, seed + 1)
    steps = round(FRAME_PS / molecule.timestep_ps)
    integrator.step(round(EQUILIBRATION_PS / FRAME_PS) * steps)
    positions, energies = [], []
    for _ in range(round(ns * 1000 / FRAME_PS)):
        integrator.step(steps)
        state = context.getState(getPositions=True, getEnergy=True)
        positions.append(state.getPositions(asNumpy=True).value_in_unit(unit.nanometer))
        energies.append(state.getPotentialEnergy().value_in_unit(unit.kilojoule_per_mole))
    return np.array(positions), np.array(energies)
