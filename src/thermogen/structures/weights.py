"""Exact Boltzmann weights of generated structures.

The model gives the density q_f(f | T) of its internal coordinates f (the deterministic
sampler's change of variables, :meth:`DiffusionModel.sample_with_log_prob`). The structures
x(f) then have the density log q(x) = log q_f(f) - log J(f) with respect to Cartesian volume
(J the volume element of the Z-matrix, rigid-body motion integrated out), and

    log w = -U(x) / k_B T - log q(x)

are importance weights that make averages over the generated structures asymptotically
unbiased Boltzmann averages at T, whatever the model's errors, wherever q covers the ensemble.
The Kish effective sample size says how many samples the average is worth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..analysis.reweighting import boltzmann_weights
from ..data.dataset import MultiTempDataset

__all__ = ["StructureWeights", "structure_weights"]


@dataclass(frozen=True)
class StructureWeights:
    """Densities and weights of N generated structures at K temperatures.

    Attributes
    ----------
    log_prob
        (N,) log q(x) of each structure (per Cartesian volume, rigid-body motion integrated out).
    log_weight
        (N,) -U/kT - log q(x), unnormalised.
    temperatures, ess
        (K,) the temperatures and the Kish effective sample size of their weights, as a
        fraction of the samples at each.
    """

    log_prob: np.ndarray
    log_weight: np.ndarray
    temperatures: np.ndarray
    ess: np.ndarray

    def columns(self) -> dict[str, np.ndarray]:
        """The arrays written beside the samples in ``gen.npz``."""
        return {
            "log_prob": self.log_prob,
            "log_weight": self.log_weight,
            "ess": self.ess,
            "ess_temperature": self.temperatures,
        }

    def summary(self, unit: str) -> str:
        """One line: the effective sample size at each temperature."""
        shares = ", ".join(
            f"{t:g} {unit}: {100 * e:.1f}%"
            for t, e in zip(self.temperatures, self.ess, strict=True)
        )
        return f"Kish effective sample size of the Boltzmann weights: {shares}"


def structure_weights(samples: MultiTempDataset, log_q_features: np.ndarray) -> StructureWeights:
    """Weights of generated samples that carry internal coordinates and energies.

    Parameters
    ----------
    samples
        N samples with ``internal_coordinates`` and ``energy`` (kJ/mol).
    log_q_features
        (N,) the model's log-density of each sample's features.
    """
    log_prob = log_q_features - samples.internal_coordinates.log_volume(samples.features)
    log_weight = -samples.energy / samples.thermal_energy() - log_prob
    log_weight = np.where(np.isfinite(log_weight), log_weight, -np.inf)
    temperatures = samples.temperatures
    ess = np.array([_ess_fraction(samples, log_prob, t) for t in temperatures])
    return StructureWeights(log_prob, log_weight, temperatures, ess)


def _ess_fraction(samples: MultiTempDataset, log_prob: np.ndarray, temperature: float) -> float:
    """Kish effective sample size, as a fraction, of the weights of the samples at one T."""
    at = samples.temperature == temperature
    kt = float(samples.thermal_energy(temperature))
    return boltzmann_weights(log_prob[at], samples.energy[at], kt).effective_fraction
