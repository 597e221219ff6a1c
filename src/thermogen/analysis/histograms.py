"""Normalised histograms of samples, with periodic (angle) axes handled at the seam.

Periodic axes hold angles in radians. Their values are wrapped into [-pi, pi) and their range is
always (-pi, pi), so a point just below pi and one just above -pi land in the last and first bins.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["histogram", "histogram_ranges", "wrap_angle"]

_PERIODIC_RANGE = (-np.pi, np.pi)


def wrap_angle(angle: np.ndarray) -> np.ndarray:
    """Angles (any shape, radians) wrapped into [-pi, pi)."""
    wrapped = np.mod(np.asarray(angle, dtype=float) + np.pi, 2.0 * np.pi) - np.pi
    return np.where(wrapped >= np.pi, -np.pi, wrapped)  # mod can round up to 2 pi


def _as_samples(samples: np.ndarray) -> np.ndarray:
    """Samples as a finite float array of shape (N, D); a 1D array is read as (N, 1)."""
    x = np.asarray(samples, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"samples must have shape (N, D), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("samples contain NaN or infinite values")
    return x


def _periodic_mask(periodic: Sequence[bool] | None, n_dim: int) -> np.ndarray:
    """(D,) bool mask of periodic axes; ``None`` means no axis is periodic."""
    if periodic is None:
        return np.zeros(n_dim, dtype=bool)
    mask = np.asarray(periodic, dtype=bool).reshape(-1)
    if mask.shape != (n_dim,):
        raise ValueError(f"periodic has {mask.size} entries for {n_dim} dimensions")
    return mask


def _as_weights(weights: np.ndarray, n: int) -> np.ndarray:
    """(n,) finite non-negative weights."""
    w = np.asarray(weights, dtype=float)
    if w.shape != (n,):
        raise ValueError(f"weights must have shape ({n},), got {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and non-negative")
    return w


def histogram(
    samples: np.ndarray,
    bins: int | Sequence[int],
    ranges: Sequence[tuple[float, float]],
    periodic: Sequence[bool] | None = None,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Probability histogram of samples, summing to 1 over the range.

    Parameters
    ----------
    samples
        (N, D) samples (a 1D array is read as (N, 1)); periodic axes in radians.
    bins
        Number of bins, one for all axes or one per axis (D,).
    ranges
        (D,) pairs (low, high). Ignored for periodic axes, whose range is (-pi, pi).
    periodic
        (D,) flags marking angle axes; values there are wrapped into [-pi, pi).
    weights
        (N,) non-negative sample weights (e.g. MBAR weights); uniform when ``None``.

    Returns
    -------
    np.ndarray
        Histogram of shape ``bins`` (D axes) with entries summing to 1. Samples outside
        ``ranges`` on non-periodic axes are dropped before normalising (a sample on the upper
        edge is kept, in the last bin).
    """
    x = _as_samples(samples)
    n_dim = x.shape[1]
    mask = _periodic_mask(periodic, n_dim)
    if len(ranges) != n_dim:
        raise ValueError(f"ranges has {len(ranges)} entries for {n_dim} dimensions")
    x = np.where(mask, wrap_angle(x), x)
    axis_ranges = [
        _PERIODIC_RANGE if p else (float(r[0]), float(r[1]))
        for p, r in zip(mask, ranges, strict=True)
    ]
    if any(low >= high for low, high in axis_ranges):
        raise ValueError(f"every range needs low < high, got {axis_ranges}")
    w = None if weights is None else _as_weights(weights, x.shape[0])
    counts, _ = np.histogramdd(x, bins=bins, range=axis_ranges, weights=w)
    total = counts.sum()
    if total <= 0:
        raise ValueError("no sample (or no weight) falls inside the histogram ranges")
    return counts / total


def histogram_ranges(
    *sample_sets: np.ndarray,
    periodic: Sequence[bool] | None = None,
    margin: float = 0.05,
) -> list[tuple[float, float]]:
    """Common histogram ranges covering the union of several (N_i, D) sample sets.

    Each non-periodic axis spans [min, max] of all sets widened by ``margin`` times its width on
    both sides (by ``margin`` absolute if all values are equal); periodic axes get (-pi, pi).
    Returns a list of D (low, high) pairs, ready for :func:`histogram`.
    """
    if not sample_sets:
        raise ValueError("give at least one sample set")
    if margin < 0:
        raise ValueError(f"margin must be non-negative, got {margin}")
    stacked = np.concatenate([_as_samples(s) for s in sample_sets], axis=0)
    if stacked.shape[0] == 0:
        raise ValueError("the sample sets are empty")
    mask = _periodic_mask(periodic, stacked.shape[1])
    low, high = stacked.min(axis=0), stacked.max(axis=0)
    pad = np.where(high > low, margin * (high - low), margin)
    return [
        _PERIODIC_RANGE if p else (float(lo - d), float(hi + d))
        for p, lo, hi, d in zip(mask, low, high, pad, strict=True)
    ]
