"""What every simulated system offers the simulator, and the exact grid reference of 2D potentials.

Two layers:

* :class:`SimulationSystem` is what the replica-exchange driver needs: batched energies and forces
  of configurations of shape ``config_shape``, starting configurations, and the features that
  are written to the dataset.
* :class:`AnalyticSystem` is a 2D potential U(x, y) in reduced units (k_B = 1) whose Boltzmann
  distribution is computed exactly on a fine grid at any temperature: density, geometric basin
  populations, melting curve, heat capacity and i.i.d. samples.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.special import logsumexp

__all__ = ["AnalyticSystem", "GridReference", "SimulationSystem"]


class SimulationSystem(ABC):
    """A system the Langevin replica-exchange simulator can run (unit masses, reduced units).

    Subclasses set the class attributes and implement :meth:`energy_and_force`,
    :meth:`initial_positions` and :meth:`features`.
    """

    name: str
    config_shape: tuple[int, ...]
    """Shape of one configuration, e.g. ``(2,)`` for a 2D potential, ``(7, 2)`` for LJ7."""
    feature_names: tuple[str, ...]
    default_temperatures: tuple[float, ...]
    """A sensible replica-exchange ladder (reduced units)."""
    timestep: float
    """Default Langevin time step (reduced time units)."""
    friction: float
    """Default Langevin friction coefficient gamma (1 / reduced time)."""
    temperature_unit: str = "reduced"
    energy_unit: str = "reduced"

    @property
    def periodic(self) -> np.ndarray:
        """(D,) bool: which features are angles. None are, by default."""
        return np.zeros(len(self.feature_names), dtype=bool)

    @abstractmethod
    def energy_and_force(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Potential energy (M,) and force -dU/dx (M, *config_shape) of M configurations."""

    def energy(self, x: np.ndarray) -> np.ndarray:
        """Potential energy (M,) of configurations ``x`` of shape (M, *config_shape)."""
        return self.energy_and_force(x)[0]

    @abstractmethod
    def initial_positions(self, temperature: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Starting configurations (n, *config_shape) for walkers at ``temperature`` (n,)."""

    @abstractmethod
    def features(self, x: np.ndarray) -> np.ndarray:
        """Features (M, D) written to datasets for configurations (M, *config_shape)."""


@dataclass(frozen=True)
class GridReference:
    """The exact Boltzmann distribution of a 2D potential on a regular grid at one temperature.

    Attributes
    ----------
    temperature
        Reduced temperature k_B T.
    x_edges, y_edges
        (nx + 1,), (ny + 1,) cell edges.
    probability
        (nx, ny) probability mass of each cell (sums to 1), indexed ``[ix, iy]``.
    basin_populations
        (n_basins,) exact populations of the system's geometric basins.
    mean_energy, energy_variance
        <U> and <U^2> - <U>^2 (reduced energy units).
    """

    temperature: float
    x_edges: np.ndarray
    y_edges: np.ndarray
    probability: np.ndarray
    basin_populations: np.ndarray
    mean_energy: float
    energy_variance: float

    @property
    def heat_capacity(self) -> float:
        """Configurational heat capacity C_v = Var(U) / (k_B T^2), in units of k_B."""
        return self.energy_variance / self.temperature**2

    def free_energy(self) -> np.ndarray:
        """(nx, ny) free energy -k_B T ln p per cell, zero at its minimum; +inf where p = 0."""
        with np.errstate(divide="ignore"):
            f = -self.temperature * np.log(self.probability)
        return f - f[np.isfinite(f)].min()


class AnalyticSystem(SimulationSystem):
    """A 2D potential whose Boltzmann distribution is known exactly on a grid (k_B = 1).

    Subclasses implement :meth:`potential` and :meth:`gradient` for points (M, 2) and set
    ``bounds`` (a box holding all but a negligible part of the mass at every temperature of
    interest), ``minima`` (one representative point per named basin) and ``basin_names``.

    Basins are geometric: every point belongs to the basin of the minimum its steepest-descent
    path on the reference grid ends in (a watershed). :meth:`basin_of` applies that map to any
    point, so populations of simulated or generated samples use exactly the same definition as
    the exact reference.
    """

    config_shape = (2,)
    feature_names = ("x", "y")
    bounds: tuple[tuple[float, float], tuple[float, float]]
    minima: tuple[tuple[float, float], ...]
    basin_names: tuple[str, ...]
    grid_size: int = 600
    """Cells per axis of the reference grid (600 x 600 = 3.6e5 cells)."""

    # ------------------------------------------------------------------ potential
    @abstractmethod
    def potential(self, xy: np.ndarray) -> np.ndarray:
        """U(x, y) in reduced energy units for points (M, 2); returns (M,)."""

    @abstractmethod
    def gradient(self, xy: np.ndarray) -> np.ndarray:
        """dU/d(x, y) for points (M, 2); returns (M, 2)."""

    def energy_and_force(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.potential(x), -self.gradient(x)

    def features(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=float).reshape(-1, 2)

    def initial_positions(self, temperature: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Exact equilibrium samples at each walker's temperature, so no equilibration is needed."""
        temperature = np.asarray(temperature, dtype=float)
        out = np.empty((temperature.size, 2))
        for t in np.unique(temperature):
            at_t = temperature == t
            out[at_t] = self.sample(float(t), int(at_t.sum()), rng)
        return out

    # ------------------------------------------------------------------ grid
    @cached_property
    def _grid(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        (x0, x1), (y0, y1) = self.bounds
        x_edges = np.linspace(x0, x1, self.grid_size + 1)
        y_edges = np.linspace(y0, y1, self.grid_size + 1)
        xc = 0.5 * (x_edges[1:] + x_edges[:-1])
        yc = 0.5 * (y_edges[1:] + y_edges[:-1])
        centres = np.stack(np.meshgrid(xc, yc, indexing="ij"), axis=-1)
        energy = self.potential(centres.reshape(-1, 2)).reshape(self.grid_size, self.grid_size)
        return x_edges, y_edges, centres, energy

    @property
    def grid_energy(self) -> np.ndarray:
        """(n, n) potential at the reference grid's cell centres, indexed ``[ix, iy]``."""
        return self._grid[3]

    @cached_property
    def basin_map(self) -> np.ndarray:
        """(n, n) int basin index of every grid cell (steepest-descent watershed)."""
        energy = self.grid_energy
        n = self.grid_size
        padded = np.pad(energy, 1, constant_values=np.inf)
        flat_index = np.arange(n * n).reshape(n, n)
        target = flat_index.copy()
        best = energy.copy()
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                if dx == dy == 0:
                    continue
                neighbour = padded[1 + dx : 1 + dx + n, 1 + dy : 1 + dy + n]
                lower = neighbour < best
                best = np.where(lower, neighbour, best)
                shifted = np.clip(np.arange(n)[:, None] + dx, 0, n - 1) * n + np.clip(
                    np.arange(n)[None, :] + dy, 0, n - 1
                )
                target = np.where(lower, shifted, target)
        target = target.ravel()
        while True:  # pointer jumping: every cell ends at the local minimum it descends to
            nxt = target[target]
            if np.array_equal(nxt, target):
                break
            target = nxt
        centres = self._grid[2].reshape(-1, 2)
        sinks = np.unique(target)
        minima = np.asarray(self.minima, dtype=float)
        nearest = np.argmin(((centres[sinks, None, :] - minima[None, :, :]) ** 2).sum(-1), axis=1)
        label_of_sink = np.zeros(n * n, dtype=np.int64)
        label_of_sink[sinks] = nearest
        return label_of_sink[target].reshape(n, n)

    def basin_of(self, xy: np.ndarray) -> np.ndarray:
        """Basin index (M,) of points (M, 2); points outside ``bounds`` take the nearest edge cell."""
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        x_edges, y_edges = self._grid[0], self._grid[1]
        ix = np.clip(np.searchsorted(x_edges, xy[:, 0]) - 1, 0, self.grid_size - 1)
        iy = np.clip(np.searchsorted(y_edges, xy[:, 1]) - 1, 0, self.grid_size - 1)
        return self.basin_map[ix, iy]

    # ------------------------------------------------------------------ exact thermodynamics
    def reference(self, temperature: float) -> GridReference:
        """Exact Boltzmann distribution at reduced temperature ``temperature`` on the grid."""
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        x_edges, y_edges, _, energy = self._grid
        log_w = -energy / temperature
        p = np.exp(log_w - logsumexp(log_w))
        pops = np.bincount(
            self.basin_map.ravel(), weights=p.ravel(), minlength=len(self.basin_names)
        )
        mean_u = float((p * energy).sum())
        var_u = float((p * (energy - mean_u) ** 2).sum())
        return GridReference(float(temperature), x_edges, y_edges, p, pops, mean_u, var_u)

    def exact_populations(self, temperatures: np.ndarray | float) -> np.ndarray:
        """(K, n_basins) exact basin populations at each temperature."""
        temps = np.atleast_1d(np.asarray(temperatures, dtype=float))
        return np.stack([self.reference(t).basin_populations for t in temps])

    def exact_heat_capacity(self, temperatures: np.ndarray | float) -> np.ndarray:
        """(K,) configurational heat capacity C_v(T) = Var(U)/T^2 in units of k_B."""
        temps = np.atleast_1d(np.asarray(temperatures, dtype=float))
        return np.array([self.reference(t).heat_capacity for t in temps])

    def exact_melting_curve(
        self, temperatures: np.ndarray | float, basin: int | str = 0
    ) -> np.ndarray:
        """(K,) exact population of one basin (index or name) versus temperature."""
        index = self.basin_names.index(basin) if isinstance(basin, str) else int(basin)
        return self.exact_populations(temperatures)[:, index]

    def sample(
        self, temperature: float, n: int, rng: np.random.Generator | int | None = None
    ) -> np.ndarray:
        """``n`` i.i.d. samples (n, 2) from the exact Boltzmann distribution at ``temperature``.

        A grid cell is drawn with probability proportional to exp(-U_low/T), where U_low bounds U
        from below inside the cell, a point uniformly inside it, and the point is accepted with
        probability exp(-(U - U_low)/T) (rejection sampling, exact up to the lower bound).
        """
        rng = np.random.default_rng(rng)
        x_edges, y_edges, _, _ = self._grid
        lower = self._cell_lower_bound
        log_w = (-lower / temperature).ravel()
        cell_p = np.exp(log_w - logsumexp(log_w))
        dx, dy = x_edges[1] - x_edges[0], y_edges[1] - y_edges[0]
        out = np.empty((0, 2))
        while out.shape[0] < n:
            m = int(1.3 * (n - out.shape[0])) + 16
            cells = rng.choice(cell_p.size, size=m, p=cell_p)
            ix, iy = np.divmod(cells, self.grid_size)
            pts = np.stack(
                [x_edges[ix] + dx * rng.random(m), y_edges[iy] + dy * rng.random(m)], axis=1
            )
            accept = rng.random(m) < np.exp(
                -(self.potential(pts) - lower.ravel()[cells]) / temperature
            )
            out = np.concatenate([out, pts[accept]])
        return out[:n]

    @cached_property
    def _cell_lower_bound(self) -> np.ndarray:
        """(n, n) lower bound of U in each cell: min over its corners and centre less a gradient margin."""
        x_edges, y_edges, _, centre_energy = self._grid
        corners = np.stack(np.meshgrid(x_edges, y_edges, indexing="ij"), axis=-1)
        corner_u = self.potential(corners.reshape(-1, 2)).reshape(corners.shape[:2])
        corner_g = np.linalg.norm(self.gradient(corners.reshape(-1, 2)), axis=1).reshape(
            corners.shape[:2]
        )
        stack_u = np.stack(
            [
                corner_u[:-1, :-1],
                corner_u[1:, :-1],
                corner_u[:-1, 1:],
                corner_u[1:, 1:],
                centre_energy,
            ]
        )
        stack_g = np.stack(
            [corner_g[:-1, :-1], corner_g[1:, :-1], corner_g[:-1, 1:], corner_g[1:, 1:]]
        )
        half_diagonal = 0.5 * np.hypot(x_edges[1] - x_edges[0], y_edges[1] - y_edges[0])
        return stack_u.min(axis=0) - 2.0 * half_diagonal * stack_g.max(axis=0)
