"""Importance reweighting of generated samples to the Boltzmann distribution.

A generative model proposes x ~ q(x | T). Where the potential energy U(x) is known, the weights
w = exp(-U(x) / k_B T) / q(x | T) make averages over the generated samples asymptotically
unbiased Boltzmann averages at T, whatever the model's errors, as long as q covers the Boltzmann
distribution. The Kish effective sample size says how much of the sample survives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from .mbar import kish_effective_sample_size

__all__ = ["BoltzmannWeights", "boltzmann_weights"]


@dataclass(frozen=True)
class BoltzmannWeights:
    """Normalised importance weights of N generated samples.

    Attributes
    ----------
    log_weights
        (N,) log w, normalised so that sum(exp(log_weights)) = 1.
    effective_sample_size
        Kish effective sample size (between 1 and N).
    """

    log_weights: np.ndarray

    @property
    def weights(self) -> np.ndarray:
        """(N,) normalised weights."""
        return np.exp(self.log_weights)

    @property
    def effective_sample_size(self) -> float:
        return kish_effective_sample_size(self.log_weights)

    @property
    def effective_fraction(self) -> float:
        """Effective sample size as a fraction of the number of samples."""
        return self.effective_sample_size / self.log_weights.size

    def average(self, observable: np.ndarray) -> np.ndarray:
        """Weighted average of an observable (N,) or (N, S) over the samples."""
        return np.tensordot(self.weights, np.asarray(observable, dtype=float), axes=(0, 0))


def boltzmann_weights(
    log_q: np.ndarray, energy: np.ndarray, thermal_energy: float
) -> BoltzmannWeights:
    """Weights exp(-U/kT) / q of samples with model log-density ``log_q`` (N,) and energy ``energy`` (N,).

    ``thermal_energy`` is k_B T in the energy's unit. Non-finite log-densities or energies get
    zero weight.
    """
    log_w = -np.asarray(energy, dtype=float) / thermal_energy - np.asarray(log_q, dtype=float)
    log_w = np.where(np.isfinite(log_w), log_w, -np.inf)
    return BoltzmannWeights(log_w - logsumexp(log_w))
