"""State populations at any temperature from a free energy per state, G_k(T) = H_k - T S_k.

With enthalpy H_k and entropy S_k constant in temperature (no heat-capacity difference between
states, the assumption of a van 't Hoff analysis),

    log p_k(T) = S_k / k_B - H_k / (k_B T) - log sum_j exp(S_j / k_B - H_j / (k_B T)),

so the log-odds of any two states are linear in 1/T, and two temperatures fix them. The fit is
the weighted multinomial maximum likelihood of the state labels of frames at their temperatures
(convex; exact reproduction of the observed state fractions when there are two temperatures), with
half a pseudo-frame per state and temperature so that a state unseen at one temperature keeps a
finite free energy. State 0 is the reference: S_0 = H_0 = 0.

Units: enthalpies are stored as H_k / k_B, in the temperature unit (K or reduced), entropies as
S_k / k_B (dimensionless). Uncertainty comes from a bootstrap over whole trajectories.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import log_softmax

__all__ = ["StateCounts", "StateThermodynamics"]

PSEUDO_FRAMES = 0.5
"""Pseudo-frames added to every (temperature, state) cell before fitting."""


@dataclass(frozen=True)
class StateCounts:
    """State masses of the training frames, per trajectory and temperature.

    Attributes
    ----------
    temperatures
        (K,) distinct temperatures, increasing.
    masses
        (G, K, S) summed frame weights of trajectory g at temperature k in state s, scaled so
        that the total at each temperature is its number of frames.
    """

    temperatures: np.ndarray
    masses: np.ndarray

    @classmethod
    def from_frames(
        cls,
        temperature: np.ndarray,
        state: np.ndarray,
        group: np.ndarray,
        n_states: int,
        weights: np.ndarray | None = None,
    ) -> StateCounts:
        """Tabulate N frames: temperatures (N,), states (N,) in 0..S-1, trajectory ids (N,)."""
        temps, t_index = np.unique(temperature, return_inverse=True)
        groups, g_index = np.unique(group, return_inverse=True)
        w = np.ones(state.size) if weights is None else np.asarray(weights, dtype=float)
        cell = (g_index * temps.size + t_index) * n_states + state
        masses = np.bincount(cell, w, groups.size * temps.size * n_states).reshape(
            groups.size, temps.size, n_states
        )
        frames = np.bincount(t_index, minlength=temps.size)
        per_temperature = masses.sum(axis=(0, 2))
        masses *= (frames / np.maximum(per_temperature, 1e-300))[None, :, None]
        return cls(temps.astype(float), masses)

    def resampled(self, rng: np.random.Generator) -> StateCounts:
        """The same table over trajectories drawn with replacement (one bootstrap replicate)."""
        pick = rng.integers(0, self.masses.shape[0], self.masses.shape[0])
        return StateCounts(self.temperatures, self.masses[pick])

    def to_dict(self) -> dict[str, list]:
        """JSON-ready lists."""
        return {"temperatures": self.temperatures.tolist(), "masses": self.masses.tolist()}

    @classmethod
    def from_dict(cls, data: dict[str, list]) -> StateCounts:
        """The table written by :meth:`to_dict`."""
        return cls(np.asarray(data["temperatures"], float), np.asarray(data["masses"], float))


@dataclass(frozen=True)
class StateThermodynamics:
    """Entropy and enthalpy of each state, and the populations they imply at any temperature.

    Attributes
    ----------
    entropy
        (S,) S_k / k_B, with S_0 = 0.
    enthalpy
        (S,) H_k / k_B in the temperature unit, with H_0 = 0.
    """

    entropy: np.ndarray
    enthalpy: np.ndarray

    def log_populations(self, temperatures: np.ndarray | float) -> np.ndarray:
        """(K, S) log populations at K temperatures (> 0)."""
        inv_t = 1.0 / np.atleast_1d(np.asarray(temperatures, dtype=float))
        return log_softmax(self.entropy[None] - np.outer(inv_t, self.enthalpy), axis=1)

    def populations(self, temperatures: np.ndarray | float) -> np.ndarray:
        """(K, S) populations at K temperatures (> 0)."""
        return np.exp(self.log_populations(temperatures))

    @classmethod
    def fit(cls, counts: StateCounts) -> StateThermodynamics:
        """Maximum-likelihood entropies and enthalpies of the tabulated states."""
        cells = counts.masses.sum(axis=0) + PSEUDO_FRAMES  # (K, S)
        n_states = cells.shape[1]
        if n_states == 1:
            return cls(np.zeros(1), np.zeros(1))
        # 1/T centred and scaled to O(1) keeps the optimisation well conditioned
        inv_t = 1.0 / counts.temperatures
        centre, width = inv_t.mean(), max(np.ptp(inv_t), 1e-3 * inv_t.mean())
        x = (inv_t - centre) / width
        totals = cells.sum(axis=1)

        def objective(params: np.ndarray) -> tuple[float, np.ndarray]:
            a = np.r_[0.0, params[: n_states - 1]]
            b = np.r_[0.0, params[n_states - 1 :]]
            logits = a[None] + np.outer(x, b)
            log_p = log_softmax(logits, axis=1)
            residual = cells - totals[:, None] * np.exp(log_p)  # d(log-lik)/d(logits)
            grad_a, grad_b = residual.sum(0), x @ residual
            return -float((cells * log_p).sum()), -np.r_[grad_a[1:], grad_b[1:]]

        start = np.zeros(2 * (n_states - 1))
        result = minimize(objective, start, jac=True, method="L-BFGS-B")
        a = np.r_[0.0, result.x[: n_states - 1]]
        b = np.r_[0.0, result.x[n_states - 1 :]]
        # logits = a + b (1/T - centre) / width = S - H / T
        return cls(entropy=a - b * centre / width, enthalpy=-b / width)

    @classmethod
    def bootstrap(
        cls, counts: StateCounts, n_boot: int, rng: np.random.Generator
    ) -> list[StateThermodynamics]:
        """Fits to ``n_boot`` resamplings of the trajectories."""
        return [cls.fit(counts.resampled(rng)) for _ in range(n_boot)]
