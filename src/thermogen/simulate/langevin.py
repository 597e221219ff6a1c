"""Vectorised Langevin dynamics (BAOAB splitting) for many walkers at their own temperatures."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..systems.base import SimulationSystem

__all__ = ["LangevinState", "baoab_step"]


@dataclass
class LangevinState:
    """Positions, velocities and the current energies/forces of W walkers (unit masses).

    Attributes
    ----------
    positions, velocities, forces
        (W, *config_shape) arrays.
    energy
        (W,) potential energy at ``positions``.
    """

    positions: np.ndarray
    velocities: np.ndarray
    forces: np.ndarray
    energy: np.ndarray

    @classmethod
    def start(
        cls,
        system: SimulationSystem,
        positions: np.ndarray,
        temperature: np.ndarray,
        rng: np.random.Generator,
    ) -> LangevinState:
        """Walkers at ``positions`` with Maxwell-Boltzmann velocities at ``temperature`` (W,)."""
        energy, forces = system.energy_and_force(positions)
        velocities = _expand(np.sqrt(temperature), positions.ndim) * rng.standard_normal(
            positions.shape
        )
        return cls(positions, velocities, forces, energy)


def baoab_step(
    system: SimulationSystem,
    state: LangevinState,
    temperature: np.ndarray,
    timestep: float,
    friction: float,
    rng: np.random.Generator,
) -> None:
    """Advance every walker by one BAOAB step in place (Leimkuhler & Matthews 2013).

    BAOAB samples configurations with an O(dt^2) error that is small for the default steps.

    Parameters
    ----------
    temperature
        (W,) reduced temperature k_B T of each walker.
    timestep, friction
        dt and gamma in reduced units.
    """
    dt = timestep
    decay = np.exp(-friction * dt)
    kick = _expand(np.sqrt((1.0 - decay**2) * temperature), state.positions.ndim)
    v = state.velocities
    v += 0.5 * dt * state.forces
    state.positions += 0.5 * dt * v
    v *= decay
    v += kick * rng.standard_normal(v.shape)
    state.positions += 0.5 * dt * v
    state.energy, state.forces = system.energy_and_force(state.positions)
    v += 0.5 * dt * state.forces


def _expand(per_walker: np.ndarray, ndim: int) -> np.ndarray:
    """Reshape (W,) to (W, 1, ...) so it broadcasts over a configuration's axes."""
    return np.asarray(per_walker).reshape((-1,) + (1,) * (ndim - 1))
