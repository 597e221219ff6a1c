"""LJ7: seven Lennard-Jones particles in 2D (reduced units, epsilon = sigma = m = k_B = 1).

The classic cluster of Dellago, Bolhuis & Chandler (1998) and Tribello, Ceriotti & Parrinello
(2010), used by Latent Thermodynamic Flows (Qiu, John, Herron & Tiwary 2025). The global minimum
is a hexagon with one particle at its centre (U = -12.5349); the next isomers (capped
parallelogram, trapezoid, ...) lie about 1 epsilon higher, and the hexagon melts and isomerises
between k_B T ~ 0.1 and 0.4.

Positions are restrained by a flat-bottom harmonic wall on each particle's distance from the
cluster's centre of mass (as the PLUMED LJ7 studies do with ``UPPER_WALLS``), so that the
cluster cannot evaporate in long high-temperature runs. The wall does not touch the hexagon or
the low isomers, and as it acts on distances from the centre of mass the total force stays zero.

Features are the seven coordination numbers sorted ascending, which makes them invariant to the
labelling of the identical particles; :func:`coordination_moments` gives the classic collective
variables (second and third central moments of the coordination numbers).
"""

from __future__ import annotations

import numpy as np

from .base import SimulationSystem

__all__ = [
    "LJ7",
    "coordination_moments",
    "coordination_numbers",
    "hexagonal_cluster",
    "lj_pair_energy",
]

N_PARTICLES = 7
R0 = 1.5
"""Switching distance of the coordination numbers (sigma)."""
_BLOCK = 512
"""Walkers per block in :meth:`LJ7.energy_and_force`."""

_I, _J = np.triu_indices(N_PARTICLES, k=1)
_DIFF = np.zeros((_I.size, N_PARTICLES))
_DIFF[np.arange(_I.size), _J] = 1.0
_DIFF[np.arange(_I.size), _I] = -1.0
"""(21, 7) incidence matrix: row p of ``_DIFF @ x`` is x_j - x_i for the pair p = (i < j)."""
_DIFF_T = np.ascontiguousarray(_DIFF.T)
_ADJ_T = np.abs(_DIFF_T)
"""(7, 21): particle k's row sums the pair quantities of every pair that contains k."""
_CENTRE = np.eye(N_PARTICLES) - 1.0 / N_PARTICLES
"""(7, 7): row i of ``_CENTRE @ x`` is x_i - x_com."""


def lj_pair_energy(r: np.ndarray | float) -> np.ndarray:
    """LJ pair energy 4 (r^-12 - r^-6) (epsilon) of distances ``r`` (sigma), any shape."""
    inv_r6 = np.asarray(r, dtype=float) ** -6
    return 4.0 * (inv_r6 * inv_r6 - inv_r6)


def hexagonal_cluster(spacing: float = 2.0 ** (1.0 / 6.0)) -> np.ndarray:
    """(7, 2) centred hexagon: particle 0 at the origin, six on a hexagon of radius ``spacing``."""
    angles = np.arange(6) * np.pi / 3.0
    ring = spacing * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return np.concatenate([np.zeros((1, 2)), ring])


def _pair_vectors(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions (7, 2, M), pair vectors x_j - x_i (21, 2, M) and r^2 (21, M) of x (M, 7, 2).

    Walkers go last so that every elementwise operation runs over long contiguous rows.
    """
    x = np.asarray(x, dtype=float).reshape(-1, N_PARTICLES, 2)
    xt = np.ascontiguousarray(x.transpose(1, 2, 0))
    rij = (_DIFF @ xt.reshape(N_PARTICLES, -1)).reshape(_I.size, 2, -1)
    r2 = rij[:, 0] ** 2 + rij[:, 1] ** 2
    return xt, rij, r2


def _coordination_t(r2: np.ndarray) -> np.ndarray:
    """Coordination numbers (7, M) from squared pair distances (21, M)."""
    # (1 - q^8) / (1 - q^16) = 1 / (1 + q^8) with q = r / r0: equal for r != r0, and the
    # right-hand side is the limit 1/2 at r = r0, so no special case is needed.
    q8 = (r2 / R0**2) ** 4
    return _ADJ_T @ (1.0 / (1.0 + q8))


def coordination_numbers(x: np.ndarray) -> np.ndarray:
    """Coordination numbers c_i = sum_{j != i} (1 - (r_ij/r0)^8) / (1 - (r_ij/r0)^16), r0 = 1.5.

    Parameters
    ----------
    x
        (M, 7, 2) positions (sigma).

    Returns
    -------
    (M, 7) coordination numbers in particle order (not sorted).
    """
    return _coordination_t(_pair_vectors(x)[2]).T


def coordination_moments(c: np.ndarray) -> np.ndarray:
    """Second and third central moments of the coordination numbers over the 7 particles.

    Parameters
    ----------
    c
        (M, 7) coordination numbers, in any particle order.

    Returns
    -------
    (M, 2) columns mu2 = mean((c - mean c)^2) and mu3 = mean((c - mean c)^3).
    """
    dc = np.asarray(c, dtype=float)
    dc = dc - dc.mean(axis=1, keepdims=True)
    return np.stack([(dc**2).mean(axis=1), (dc**3).mean(axis=1)], axis=1)


class LJ7(SimulationSystem):
    """Seven Lennard-Jones particles in 2D with a flat-bottom centre-of-mass restraint.

    U(x) = sum_{i<j} 4 (r_ij^-12 - r_ij^-6) + sum_i (k/2) max(0, |x_i - x_com| - R)^2,
    with R = ``restraint_radius`` (sigma) and k = ``restraint_stiffness`` (epsilon / sigma^2);
    k = 0 gives the bare cluster. Features: the 7 coordination numbers sorted ascending.

    Default ladder: 8 temperatures geometric from 0.1 (the hexagon persists) to 0.4 (the cluster
    isomerises freely; under 20% of quenched configurations return to the hexagon), with
    neighbour swap acceptance ~0.5-0.7. The time step 0.005 is 1/78 of the fastest vibration
    period of the hexagon (0.39); friction 1 keeps the dynamics underdamped.
    """

    name = "lj7"
    config_shape = (N_PARTICLES, 2)
    feature_names = tuple(f"c{k}" for k in range(1, N_PARTICLES + 1))
    default_temperatures = tuple(float(t) for t in np.geomspace(0.1, 0.4, 8).round(4))
    timestep = 0.005
    friction = 1.0
    ground_state_energy = -12.534867
    """Energy of the relaxed centred hexagon, the global minimum (epsilon)."""

    def __init__(self, restraint_radius: float = 2.0, restraint_stiffness: float = 100.0) -> None:
        self.restraint_radius = float(restraint_radius)
        self.restraint_stiffness = float(restraint_stiffness)

    def energy_and_force(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Energy (M,) (epsilon) and force -dU/dx (M, 7, 2) (epsilon / sigma) of x (M, 7, 2).

        Walkers are processed in blocks of ``_BLOCK``: every temporary then stays small and in
        cache, 2-3 times faster for M >= 1024 than one pass over all walkers.
        """
        x = np.asarray(x, dtype=float).reshape(-1, N_PARTICLES, 2)
        energy = np.empty(x.shape[0])
        force = np.empty_like(x)
        for start in range(0, x.shape[0], _BLOCK):
            block = slice(start, start + _BLOCK)
            energy[block], force[block] = self._block_energy_and_force(x[block])
        return energy, force

    def _block_energy_and_force(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`energy_and_force` of one block of walkers x (B, 7, 2)."""
        # Updated in place where possible: fewer large temporaries is much of the speed.
        xt, rij, inv_r2 = _pair_vectors(x)
        np.reciprocal(inv_r2, out=inv_r2)
        inv_r6 = inv_r2**3
        u = inv_r6 * inv_r6
        u -= inv_r6  # r^-12 - r^-6
        energy = 4.0 * u.sum(axis=0)
        u *= 2.0
        u += inv_r6
        u *= inv_r2
        u *= 24.0  # -(dU/dr) / r = 24 (2 r^-12 - r^-6) / r^2
        rij *= u[:, None, :]  # force on j from the pair (i, j)
        force = (_DIFF_T @ rij.reshape(_I.size, -1)).reshape(xt.shape)
        if self.restraint_stiffness > 0:
            self._add_restraint(xt, energy, force)
        return energy, force.transpose(2, 0, 1)

    def _add_restraint(self, xt: np.ndarray, energy: np.ndarray, force: np.ndarray) -> None:
        """Add the wall's energy (M,) and force (7, 2, M) in place for positions xt (7, 2, M)."""
        d = (_CENTRE @ xt.reshape(N_PARTICLES, -1)).reshape(xt.shape)  # x_i - x_com
        dist2 = d[:, 0] ** 2 + d[:, 1] ** 2
        hit = np.flatnonzero((dist2 > self.restraint_radius**2).any(axis=0))
        if hit.size == 0:
            return
        d, dist = d[..., hit], np.sqrt(dist2[:, hit])
        excess = np.maximum(dist - self.restraint_radius, 0.0)
        energy[hit] += 0.5 * self.restraint_stiffness * (excess**2).sum(axis=0)
        # g_i = dU/dd_i and dd_i/dx_k = delta_ik - 1/7, so dU/dx_k = g_k - mean_i g_i.
        # Where dist <= R the excess is 0; dividing by max(dist, R) avoids 0 / 0 at the centre.
        scale = self.restraint_stiffness * excess / np.maximum(dist, self.restraint_radius)
        g = scale[:, None, :] * d
        force[..., hit] -= g - g.mean(axis=0)

    def initial_positions(self, temperature: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Hexagonal ground states (n, 7, 2) with a Gaussian jitter of 0.02 sigma, whatever T (n,)."""
        n = np.asarray(temperature).size
        return hexagonal_cluster() + 0.02 * rng.standard_normal((n, N_PARTICLES, 2))

    def features(self, x: np.ndarray) -> np.ndarray:
        """The 7 coordination numbers (M, 7), sorted ascending (permutation invariant)."""
        return np.sort(coordination_numbers(x), axis=1)
