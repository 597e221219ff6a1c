"""MBAR reweighting of multi-temperature data to any temperature (pymbar 4).

Every frame n carries its potential energy U_n and was sampled at one of K temperatures. MBAR
treats the K temperatures as thermodynamic states with reduced potentials u_k(n) = U_n / (k_B T_k)
and gives each frame a weight at any target temperature, including ones never simulated. It is
near-exact inside a well-overlapping ladder; away from it the effective sample size collapses,
which is why every estimate here comes with the Kish effective sample size.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.special import logsumexp

from ..data.dataset import MultiTempDataset
from ..quiet import quiet_loggers
from ._pymbar import pymbar
from .timeseries import statistical_inefficiency

__all__ = ["MBARReweighter", "ReweightedEstimate", "kish_effective_sample_size"]


def kish_effective_sample_size(log_weights: np.ndarray) -> float:
    """Kish effective sample size exp(2 LSE(log w) - LSE(2 log w)) of (possibly unnormalised) log weights."""
    log_weights = np.asarray(log_weights, dtype=float)
    return float(np.exp(2.0 * logsumexp(log_weights) - logsumexp(2.0 * log_weights)))


@dataclass(frozen=True)
class ReweightedEstimate:
    """Expectations at target temperatures with MBAR's asymptotic standard errors.

    Attributes
    ----------
    temperature
        (L,) target temperatures.
    value, std_error
        (L, S) estimates of S observables and their one-sigma uncertainties.
    effective_sample_size
        (L,) Kish effective sample size of the weights at each target.
    """

    temperature: np.ndarray
    value: np.ndarray
    std_error: np.ndarray
    effective_sample_size: np.ndarray


class MBARReweighter:
    """MBAR over the temperatures of a dataset with energies.

    Parameters
    ----------
    dataset
        Frames with ``energy``; each distinct temperature is one sampled state.
    decorrelate
        Subsample each continuous trajectory (or, without ``replica``, each temperature's
        series) by the largest statistical inefficiency of its reduced energy, so that MBAR's
        asymptotic uncertainties, which assume independent frames, are not too small.

    Examples
    --------
    >>> import numpy as np
    >>> from thermogen.data import MultiTempDataset
    >>> rng = np.random.default_rng(0)
    >>> temps = np.repeat([1.0, 2.0], 5000)
    >>> x = rng.normal(0.0, np.sqrt(temps))          # harmonic oscillator, U = x^2 / 2
    >>> ds = MultiTempDataset(x[:, None], temps, energy=0.5 * x**2,
    ...                       temperature_unit="reduced", energy_unit="reduced")
    >>> est = MBARReweighter(ds).expectations(x[None, :] ** 2, [1.5])
    >>> bool(abs(est.value[0, 0] - 1.5) < 4 * est.std_error[0, 0])   # <x^2> = T
    True
    """

    def __init__(self, dataset: MultiTempDataset, decorrelate: bool = False) -> None:
        dataset.require_energy("MBAR reweighting")
        self.full_dataset = dataset
        self.frame_index = (
            _decorrelated_frames(dataset) if decorrelate else np.arange(dataset.n_frames)
        )
        self.dataset = dataset.subset(self.frame_index) if decorrelate else dataset
        ds = self.dataset
        self.temperatures = ds.temperatures
        state = np.searchsorted(self.temperatures, ds.temperature)
        self.n_k = np.bincount(state, minlength=len(self.temperatures))
        u_kn = ds.energy[None, :] / ds.thermal_energy(self.temperatures)[:, None]
        with contextlib.redirect_stdout(io.StringIO()), quiet_loggers("pymbar"):
            self._mbar = pymbar.MBAR(
                u_kn, self.n_k, initialize="BAR" if len(self.n_k) > 1 else "zeros"
            )

    @property
    def n_frames(self) -> int:
        """Frames used by MBAR (after decorrelation)."""
        return self.dataset.n_frames

    @cached_property
    def _log_denominator(self) -> np.ndarray:
        """(N,) log sum_k N_k exp(f_k - u_k(n)), the mixture density of every frame."""
        return logsumexp(self._mbar.f_k[:, None] - self._mbar.u_kn, b=self.n_k[:, None], axis=0)

    def _reduced_potential(self, temperature: float) -> np.ndarray:
        return self.dataset.energy / self.dataset.thermal_energy(float(temperature))

    def log_weights(self, temperature: float) -> np.ndarray:
        """(N,) normalised log weights of the frames at ``temperature`` (sum of exp is 1)."""
        log_w = -self._reduced_potential(temperature) - self._log_denominator
        return log_w - logsumexp(log_w)

    def weights(self, temperature: float) -> np.ndarray:
        """(N,) normalised weights of the frames (in ``self.dataset`` order) at ``temperature``."""
        return np.exp(self.log_weights(temperature))

    def effective_sample_size(self, temperature: float) -> float:
        """Kish effective sample size of the weights at ``temperature``."""
        return kish_effective_sample_size(self.log_weights(temperature))

    def overlap_matrix(self) -> np.ndarray:
        """(K, K) MBAR overlap matrix of the sampled temperatures (pymbar ``compute_overlap``).

        Entry (i, j) is the probability that a frame drawn at temperature i is attributed to
        temperature j; neighbours below about 0.03 mean MBAR cannot bridge them.
        """
        return np.asarray(self._mbar.compute_overlap()["matrix"])

    def expectations(
        self, observables: np.ndarray, temperatures: np.ndarray | list[float]
    ) -> ReweightedEstimate:
        """Expectations of S observables at L target temperatures, with uncertainties.

        Parameters
        ----------
        observables
            (S, N) values of each observable at each frame of ``self.dataset`` (or of the full
            dataset, which is subsampled the same way when ``decorrelate`` was used).
        temperatures
            (L,) target temperatures, simulated or not.
        """
        obs = np.atleast_2d(np.asarray(observables, dtype=float))
        if obs.shape[1] == self.full_dataset.n_frames and obs.shape[1] != self.n_frames:
            obs = obs[:, self.frame_index]
        if obs.shape[1] != self.n_frames:
            raise ValueError(f"observables have {obs.shape[1]} frames, expected {self.n_frames}")
        temps = np.atleast_1d(np.asarray(temperatures, dtype=float))
        targets = np.stack([self._reduced_potential(t) for t in temps])
        value = np.empty((temps.size, obs.shape[0]))
        error = np.empty_like(value)
        for s, a_n in enumerate(obs):
            # pymbar takes log(A); zeros are fine
            with np.errstate(divide="ignore"), quiet_loggers("pymbar"):
                result = self._mbar.compute_expectations(a_n, u_kn=targets)
            value[:, s], error[:, s] = result["mu"], result["sigma"]
        ess = np.array([self.effective_sample_size(t) for t in temps])
        return ReweightedEstimate(temps, value, error, ess)

    def populations(
        self, labels: np.ndarray, n_states: int, temperatures: np.ndarray | list[float]
    ) -> ReweightedEstimate:
        """State populations (L, n_states) at target temperatures from per-frame integer labels."""
        labels = np.asarray(labels)
        indicators = (labels[None, :] == np.arange(n_states)[:, None]).astype(float)
        return self.expectations(indicators, temperatures)

    def heat_capacity(self, temperatures: np.ndarray | list[float]) -> np.ndarray:
        """(L,) configurational heat capacity (<U^2> - <U>^2) / (k_B T^2), in units of k_B."""
        temps = np.atleast_1d(np.asarray(temperatures, dtype=float))
        energy = self.dataset.energy
        out = np.empty(temps.size)
        for i, t in enumerate(temps):
            w = self.weights(t)
            mean = w @ energy
            out[i] = (w @ (energy - mean) ** 2) / self.dataset.thermal_energy(t) ** 2
        return out


def _decorrelated_frames(dataset: MultiTempDataset) -> np.ndarray:
    """Indices of frames kept after subsampling every trajectory by its statistical inefficiency."""
    if dataset.replica is not None:
        groups = dataset.trajectories().segments
    else:
        groups = [np.flatnonzero(dataset.temperature == t) for t in dataset.temperatures]
    reduced = dataset.energy / dataset.thermal_energy()
    inefficiency = max(statistical_inefficiency([reduced[g]]) for g in groups)
    stride = max(1, int(np.ceil(inefficiency)))
    return np.sort(np.concatenate([g[::stride] for g in groups]))
