"""The 32-dimensional many-well system: 16 independent 2D pairs, each a tilted quartic double well
in its first coordinate and a harmonic well in its second, with exact answers at any temperature.

Per pair (the form of the many-well target of the flow-sampling literature, e.g. Midgley et al.,
"Flow annealed importance sampling bootstrap", 2023), in reduced units (k_B = 1):

    u(x, y) = x^4 - 6 x^2 - x / 2 + y^2 / 2,    U = sum over the 16 pairs.

The major well is near x = +1.77, the minor one near x = -1.69 (1.7 higher, barrier about 9).
The pairs are independent, so every answer is exact by one-dimensional quadrature: the marginal
density of each x (each y is normal with variance T), i.i.d. samples (inverse CDF), the
probability q(T) of the minor well, and the number of pairs in it, Binomial(16, q(T)).
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from .base import SimulationSystem

__all__ = ["ManyWell32"]

N_PAIRS = 16
_GRID = np.linspace(-3.5, 3.5, 20_001)
"""Quadrature grid of the double-well coordinate (the density is below e^-40 of its peak
outside it at T <= 5)."""


class ManyWell32(SimulationSystem):
    """16 independent double-well x harmonic pairs: 32 coordinates ``x0, y0, x1, y1, ...``.

    Default ladder: 8 temperatures geometric from 0.5 (the minor well holds about 3% of each
    pair) to 4 (the barrier is about 2 kT and wells mix). The time step 0.01 is 1/125 of the
    fastest vibration period (the well curvature is 25.6); friction 1.
    """

    name = "many-well-32"
    config_shape = (2 * N_PAIRS,)
    feature_names = tuple(f"{axis}{i}" for i in range(N_PAIRS) for axis in "xy")
    default_temperatures = tuple(float(t) for t in np.geomspace(0.5, 4.0, 8).round(4))
    timestep = 0.01
    friction = 1.0

    @staticmethod
    def pair_energy_x(x: np.ndarray) -> np.ndarray:
        """The double-well part x^4 - 6 x^2 - x / 2 of one pair's energy, elementwise."""
        return x**4 - 6.0 * x**2 - 0.5 * x

    def energy_and_force(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Energy (M,) and force -dU/dx (M, 32) of configurations x (M, 32)."""
        x = np.asarray(x, dtype=float).reshape(-1, *self.config_shape)
        wells, springs = x[:, 0::2], x[:, 1::2]
        energy = self.pair_energy_x(wells).sum(axis=1) + 0.5 * (springs**2).sum(axis=1)
        force = np.empty_like(x)
        force[:, 0::2] = -(4.0 * wells**3 - 12.0 * wells - 0.5)
        force[:, 1::2] = -springs
        return energy, force

    def initial_positions(self, temperature: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Every pair in its major well (n, 32), jittered by 0.05, whatever T (n,)."""
        n = np.asarray(temperature).size
        start = np.tile([1.77, 0.0], N_PAIRS)
        return start + 0.05 * rng.standard_normal((n, *self.config_shape))

    def features(self, x: np.ndarray) -> np.ndarray:
        """The 32 coordinates themselves (M, 32)."""
        return np.asarray(x, dtype=float).reshape(-1, *self.config_shape)

    # ------------------------------------------------------------ exact answers
    def well_density(self, temperature: float) -> tuple[np.ndarray, np.ndarray]:
        """The exact marginal density of every double-well coordinate at ``temperature``.

        Returns
        -------
        grid, density
            (G,) points and (G,) density on them (integrates to 1 by the trapezoidal rule).
        """
        log_weight = -self.pair_energy_x(_GRID) / temperature
        density = np.exp(log_weight - logsumexp(log_weight))
        return _GRID, density / np.trapezoid(density, _GRID)

    def minor_probability(self, temperature: float) -> float:
        """q(T): the exact probability that one pair is in the minor well (x < 0)."""
        grid, density = self.well_density(temperature)
        minor = grid <= 0
        return float(np.trapezoid(density[minor], grid[minor]))

    def minor_count_distribution(self, temperature: float) -> np.ndarray:
        """(17,) exact probabilities that k = 0 ... 16 pairs are in the minor well."""
        from scipy.stats import binom

        return binom.pmf(np.arange(N_PAIRS + 1), N_PAIRS, self.minor_probability(temperature))

    def exact_samples(self, temperature: float, n: int, rng: np.random.Generator) -> np.ndarray:
        """(n, 32) i.i.d. configurations from the Boltzmann distribution at ``temperature``: each
        double-well coordinate by inverse CDF on the quadrature grid, each harmonic one normal."""
        grid, density = self.well_density(temperature)
        cdf = np.concatenate([[0.0], np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(grid))])
        samples = np.empty((n, *self.config_shape))
        samples[:, 0::2] = np.interp(rng.random((n, N_PAIRS)) * cdf[-1], cdf, grid)
        samples[:, 1::2] = np.sqrt(temperature) * rng.standard_normal((n, N_PAIRS))
        return samples

    @staticmethod
    def minor_counts(x: np.ndarray) -> np.ndarray:
        """(M,) number of pairs of each configuration x (M, 32) in the minor well (x < 0)."""
        return (np.asarray(x)[:, 0::2] < 0).sum(axis=1)
