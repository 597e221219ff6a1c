"""KL and Jensen-Shannon divergences between histograms, and their finite-sample noise floor.

All divergences use the natural log (nats). A divergence between a generated and a reference
sample is only meaningful beside the noise floor: the same metric between two independent
reference samples of the same size (see :func:`noise_floor`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import rel_entr

from thermogen.analysis.histograms import histogram

__all__ = [
    "NoiseFloor",
    "js_between_samples",
    "js_divergence",
    "kl_divergence",
    "noise_floor",
]

Sampler = Callable[[int, np.random.Generator], np.ndarray]
"""``sampler(n, rng) -> (n, D)`` array of independent samples."""
Metric = Callable[[np.ndarray, np.ndarray], float]
"""``metric(a, b) -> float`` comparing two (n, D) sample sets."""


def _normalised(p: np.ndarray, name: str) -> np.ndarray:
    """Histogram ``p`` (any shape) divided by its sum, after checking it is a valid histogram."""
    arr = np.asarray(p, dtype=float)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be finite and non-negative")
    total = arr.sum()
    if total <= 0:
        raise ValueError(f"{name} sums to zero")
    return arr / total


def _pair(p: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both histograms normalised, after checking they have the same shape."""
    if np.shape(p) != np.shape(q):
        raise ValueError(f"histograms differ in shape: {np.shape(p)} vs {np.shape(q)}")
    return _normalised(p, "p"), _normalised(q, "q")


def kl_divergence(p: np.ndarray, q: np.ndarray, eps: float = 1e-10) -> float:
    """KL(p || q) in nats between two histograms of the same (any) shape.

    Both are normalised, then ``eps`` is added to every bin of both and they are normalised
    again, so that bins empty in ``q`` give a large finite value instead of infinity. With
    ``eps=0`` the exact KL is returned (infinite if ``q`` is empty where ``p`` is not).
    """
    if eps < 0:
        raise ValueError(f"eps must be non-negative, got {eps}")
    p_n, q_n = _pair(p, q)
    p_r, q_r = _normalised(p_n + eps, "p"), _normalised(q_n + eps, "q")
    return float(rel_entr(p_r, q_r).sum())


def js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence in nats, between 0 and ln 2, of two same-shape histograms.

    JS = KL(p || m) / 2 + KL(q || m) / 2 with m = (p + q) / 2 (no regularisation needed).
    """
    p_n, q_n = _pair(p, q)
    m = 0.5 * (p_n + q_n)
    js = 0.5 * (rel_entr(p_n, m).sum() + rel_entr(q_n, m).sum())
    return float(np.clip(js, 0.0, np.log(2.0)))  # clip rounding errors only


def js_between_samples(
    a: np.ndarray,
    b: np.ndarray,
    bins: int | Sequence[int],
    ranges: Sequence[tuple[float, float]],
    periodic: Sequence[bool] | None = None,
    weights_a: np.ndarray | None = None,
    weights_b: np.ndarray | None = None,
) -> float:
    """JS divergence (nats) between histograms of (N_a, D) and (N_b, D) samples on common bins.

    Arguments are those of :func:`thermogen.analysis.histograms.histogram`; samples outside
    ``ranges`` on non-periodic axes are dropped.
    """
    h_a = histogram(a, bins, ranges, periodic=periodic, weights=weights_a)
    h_b = histogram(b, bins, ranges, periodic=periodic, weights=weights_b)
    return js_divergence(h_a, h_b)


@dataclass(frozen=True)
class NoiseFloor:
    """A metric between two independent reference samples of size ``n``, over repeats."""

    mean: float
    std: float
    """Standard deviation over repeats (ddof=1), not the error of the mean."""
    n: int
    n_repeats: int


def _pair_drawer(
    reference: Sampler | np.ndarray, n: int
) -> Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]]:
    """A function drawing two independent samples of size ``n`` from ``reference``."""
    if callable(reference):
        return lambda rng: (reference(n, rng), reference(n, rng))
    pool = np.asarray(reference)
    if pool.shape[0] < 2 * n:
        raise ValueError(
            f"the reference array has {pool.shape[0]} samples; two disjoint subsamples of "
            f"size {n} need at least {2 * n}"
        )

    def draw(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        idx = rng.choice(pool.shape[0], size=2 * n, replace=False)
        return pool[idx[:n]], pool[idx[n:]]

    return draw


def noise_floor(
    reference: Sampler | np.ndarray,
    n: int,
    metric: Metric,
    n_repeats: int = 5,
    seed: int | np.random.Generator | None = None,
) -> NoiseFloor:
    """Finite-sample noise floor of ``metric`` at sample size ``n``.

    Parameters
    ----------
    reference
        Either an exact sampler ``sampler(n, rng) -> (n, D)``, or a large (M, D) array of
        independent reference samples (M >= 2 n), from which two disjoint subsamples of size
        ``n`` are drawn without replacement. A correlated trajectory should be thinned first,
        or the floor is underestimated.
    n
        Size of each of the two samples compared (match the generated sample size).
    metric
        ``metric(a, b) -> float``, e.g.
        ``functools.partial(js_between_samples, bins=50, ranges=r, periodic=p)``.
    n_repeats
        Number of independent pairs (at least 2).
    seed
        Seed or generator for the draws.

    Returns
    -------
    NoiseFloor
        Mean and standard deviation of the metric over ``n_repeats`` pairs.
    """
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    if n_repeats < 2:
        raise ValueError(f"n_repeats must be at least 2, got {n_repeats}")
    rng = np.random.default_rng(seed)
    draw = _pair_drawer(reference, n)
    values = np.array([metric(*draw(rng)) for _ in range(n_repeats)], dtype=float)
    return NoiseFloor(float(values.mean()), float(values.std(ddof=1)), n, n_repeats)
