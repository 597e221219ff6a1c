"""Two-state melting curves: the van 't Hoff sigmoid, its fit, and the 0.5-crossing temperature.

p_fold(T) = 1 / (1 + exp(dH/R (1/Tm - 1/T))): with dH > 0 the folded state dominates below Tm.
In Kelvin dH is in kJ/mol (R = KB_KJ_PER_MOL_K); in reduced units R = 1.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit
from scipy.special import expit, logit

from thermogen.units import boltzmann_constant

__all__ = ["VantHoffFit", "fit_van_t_hoff", "melting_temperature", "van_t_hoff"]

_CLIP = 1e-6
"""Populations are clipped into (_CLIP, 1 - _CLIP) before taking their logit."""


def van_t_hoff(
    temperature: np.ndarray | float, tm: float, dh: float, gas_constant: float
) -> np.ndarray:
    """Two-state folded population p(T), same shape as ``temperature``.

    ``temperature`` and ``tm`` share a unit; ``dh / gas_constant`` is in that unit too
    (e.g. kJ/mol over kJ/(mol K), or reduced energy over R = 1).
    """
    inv_t = 1.0 / np.asarray(temperature, dtype=float)
    return expit(dh / gas_constant * (inv_t - 1.0 / tm))


@dataclass(frozen=True)
class VantHoffFit:
    """Fitted melting temperature and enthalpy with parametric-bootstrap errors."""

    tm: float
    """Melting temperature (K or reduced)."""
    dh: float
    """Enthalpy of unfolding (kJ/mol or reduced energy)."""
    tm_std_error: float
    dh_std_error: float
    tm_interval: tuple[float, float]
    """Percentile bootstrap interval of ``tm`` at ``confidence``."""
    dh_interval: tuple[float, float]
    gas_constant: float
    temperature_unit: str
    confidence: float

    def predict(self, temperature: np.ndarray | float) -> np.ndarray:
        """Fitted folded population at ``temperature`` (any shape)."""
        return van_t_hoff(temperature, self.tm, self.dh, self.gas_constant)


def _checked_curve(
    temperature: np.ndarray, population: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(K,) float temperatures (positive) and populations (in [0, 1]), in the given order."""
    t = np.asarray(temperature, dtype=float)
    p = np.asarray(population, dtype=float)
    if t.ndim != 1 or t.shape != p.shape:
        raise ValueError(
            f"temperature and population must be 1D of equal length: {t.shape} {p.shape}"
        )
    if not (np.all(np.isfinite(t)) and np.all(t > 0)):
        raise ValueError("temperatures must be finite and positive")
    if not (np.all(np.isfinite(p)) and np.all((p >= 0) & (p <= 1))):
        raise ValueError("populations must lie in [0, 1]")
    return t, p


def _bracket(t: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(2,) temperatures and populations of the first T-ordered neighbours straddling 0.5."""
    order = np.argsort(t, kind="stable")
    t, p = t[order], p[order]
    d = p - 0.5
    straddles = (d[:-1] * d[1:] <= 0) & (d[:-1] != d[1:])
    if not straddles.any():
        raise ValueError(
            f"the population never crosses 0.5 (it stays in [{p.min():.3g}, {p.max():.3g}] "
            f"between T = {t[0]:.4g} and {t[-1]:.4g}): no transition in range, extend the "
            "temperature range"
        )
    i = int(np.argmax(straddles))
    return t[i : i + 2], p[i : i + 2]


def melting_temperature(temperature: np.ndarray, population: np.ndarray) -> float:
    """Temperature where a (K,) population curve first crosses 0.5, by linear interpolation.

    Points are taken in order of temperature. Raises ValueError if the curve never crosses 0.5.
    """
    t, p = _bracket(*_checked_curve(temperature, population))
    return float(t[0] + (0.5 - p[0]) * (t[1] - t[0]) / (p[1] - p[0]))


def _initial_guess(t: np.ndarray, p: np.ndarray, gas_constant: float) -> tuple[float, float]:
    """(Tm, dH) from the line through the two points bracketing 0.5 in (1/T, logit p).

    logit p = dH/R (1/T - 1/Tm) is exactly linear in 1/T, so the guess is exact for exact data.
    """
    t_pair, p_pair = _bracket(t, p)
    x = 1.0 / t_pair
    y = logit(np.clip(p_pair, _CLIP, 1 - _CLIP))
    slope = (y[1] - y[0]) / (x[1] - x[0])
    return float(1.0 / (x[0] - y[0] / slope)), float(slope * gas_constant)


def _fit(
    t: np.ndarray,
    p: np.ndarray,
    start: tuple[float, float],
    sigma: np.ndarray | None,
    gas_constant: float,
) -> np.ndarray:
    """(2,) least-squares (Tm, dH) of the van 't Hoff curve, weighted by 1 / sigma^2.

    Raises RuntimeError if the fit does not converge.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)  # the covariance is not used
        params, _ = curve_fit(
            lambda temp, tm, dh: van_t_hoff(temp, tm, dh, gas_constant),
            t,
            p,
            p0=start,
            sigma=sigma,
        )
    return params


def _refit(
    t: np.ndarray,
    p: np.ndarray,
    *,
    start: tuple[float, float],
    sigma: np.ndarray | None,
    gas_constant: float,
) -> np.ndarray:
    """Like :func:`_fit` but (NaN, NaN) when the fit does not converge."""
    try:
        return _fit(t, p, start, sigma, gas_constant)
    except RuntimeError:
        return np.full(2, np.nan)


def _check_sigma(sigma: float | np.ndarray | None, n_points: int) -> np.ndarray | None:
    """(K,) positive standard errors broadcast from ``sigma``, or ``None``."""
    if sigma is None:
        return None
    s = np.broadcast_to(np.asarray(sigma, dtype=float), (n_points,))
    if not (np.all(np.isfinite(s)) and np.all(s > 0)):
        raise ValueError("sigma must be finite and positive")
    return s


def _bootstrap(
    refit: Callable[[np.ndarray], np.ndarray],
    fitted: np.ndarray,
    noise: np.ndarray,
    n_boot: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """(n_converged, 2) refits of the (K,) fitted curve plus (K,) Gaussian noise levels."""
    draws = fitted + noise * rng.standard_normal((n_boot, fitted.size))
    replicates = np.array([refit(p) for p in draws])
    converged = replicates[np.all(np.isfinite(replicates), axis=1)]
    if converged.shape[0] < n_boot:
        warnings.warn(
            f"{n_boot - converged.shape[0]} of {n_boot} bootstrap fits did not converge and "
            "were dropped; the errors may be underestimated",
            RuntimeWarning,
            stacklevel=3,
        )
    if converged.shape[0] < 2:
        raise ValueError("the van 't Hoff bootstrap fits did not converge; is there a transition?")
    return converged


def fit_van_t_hoff(
    temperature: np.ndarray,
    population: np.ndarray,
    *,
    sigma: float | np.ndarray | None = None,
    temperature_unit: str = "K",
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int | np.random.Generator | None = None,
) -> VantHoffFit:
    """Fit p_fold(T) = 1 / (1 + exp(dH/R (1/Tm - 1/T))) to a melting curve.

    Parameters
    ----------
    temperature
        (K,) temperatures, K >= 3, in Kelvin or reduced units.
    population
        (K,) folded populations in [0, 1]; the curve must cross 0.5 somewhere.
    sigma
        Standard error of each population (scalar or (K,)), e.g. from
        :func:`thermogen.analysis.populations.bootstrap_populations`. Used as least-squares
        weights and as the bootstrap noise. ``None``: unweighted, noise = residual RMS.
    temperature_unit
        ``"K"`` (dH in kJ/mol, R = KB_KJ_PER_MOL_K) or ``"reduced"`` (R = 1).
    n_boot
        Parametric-bootstrap replicates: Gaussian noise of level ``sigma`` is added to the
        fitted curve and each replicate is refitted; standard errors are the spread of the
        replicates and intervals their percentiles (asymmetric where the fit is nonlinear).
    confidence
        Coverage of the percentile intervals.
    seed
        Seed or generator for the bootstrap noise.

    Returns
    -------
    VantHoffFit
        Tm, dH, their bootstrap standard errors and intervals, and ``predict(T)``.
    """
    t, p = _checked_curve(temperature, population)
    if t.size < 3:
        raise ValueError(f"a van 't Hoff fit needs at least 3 temperatures, got {t.size}")
    if n_boot < 2 or not 0 < confidence < 1:
        raise ValueError(f"need n_boot >= 2 and 0 < confidence < 1, got {n_boot}, {confidence}")
    gas_constant = boltzmann_constant(temperature_unit)
    weights = _check_sigma(sigma, t.size)
    try:
        best = _fit(t, p, _initial_guess(t, p, gas_constant), weights, gas_constant)
    except RuntimeError as err:
        raise ValueError(f"the van 't Hoff fit did not converge: {err}") from err
    fitted = van_t_hoff(t, *best, gas_constant)
    rms = np.sqrt(np.sum((p - fitted) ** 2) / (t.size - 2))
    noise = np.full(t.size, rms) if weights is None else weights
    refit = functools.partial(
        _refit, t, start=(best[0], best[1]), sigma=weights, gas_constant=gas_constant
    )
    replicates = _bootstrap(refit, fitted, noise, n_boot, np.random.default_rng(seed))
    low, high = np.quantile(replicates, [(1 - confidence) / 2, (1 + confidence) / 2], axis=0)
    std_error = replicates.std(axis=0, ddof=1)
    return VantHoffFit(
        tm=float(best[0]),
        dh=float(best[1]),
        tm_std_error=float(std_error[0]),
        dh_std_error=float(std_error[1]),
        tm_interval=(float(low[0]), float(high[0])),
        dh_interval=(float(low[1]), float(high[1])),
        gas_constant=gas_constant,
        temperature_unit=temperature_unit,
        confidence=confidence,
    )
