"""State populations with block-bootstrap error bars for time-correlated trajectories.

Frames are assigned to discrete states (``labels``). Trajectory frames are correlated in time, so
resampling single frames underestimates the error by roughly the square root of the statistical
inefficiency g; resampling contiguous blocks much longer than g does not.

Population curves over temperature (:class:`PopulationCurve`, :func:`curve_columns`,
:func:`state_index`) live in :mod:`thermogen.analysis.population_curve` and are importable
from here as well.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from thermogen.analysis import timeseries
from thermogen.analysis.population_curve import PopulationCurve, curve_columns, state_index

__all__ = [
    "PopulationCurve",
    "PopulationEstimate",
    "bootstrap_populations",
    "curve_columns",
    "state_index",
    "state_populations",
    "statistical_inefficiency",
]

BLOCK_FACTOR = 5.0
"""Automatic block length = BLOCK_FACTOR x statistical inefficiency. Blocks of length b then
underestimate the variance by a fraction ~ g / (2 b) = 10% (5% on the standard error)."""
MIN_BLOCKS = 20
"""Fewer blocks than this give unreliable bootstrap intervals (a warning is raised)."""
_CHUNK_ELEMENTS = 1 << 22
"""Bootstrap replicates are drawn in chunks of about this many block indices (memory bound)."""


@dataclass(frozen=True, eq=False)
class PopulationEstimate:
    """State populations (S,) with bootstrap standard errors and a percentile interval."""

    value: np.ndarray
    """(S,) populations from all frames (weighted if weights were given)."""
    std_error: np.ndarray
    """(S,) standard deviation of the bootstrap replicates."""
    low: np.ndarray
    """(S,) lower end of the percentile interval."""
    high: np.ndarray
    """(S,) upper end of the percentile interval."""
    block_length: int
    """Frames per bootstrap block (given or chosen automatically)."""
    confidence: float


def _check_labels(labels: np.ndarray, n_states: int) -> np.ndarray:
    """(N,) integer state labels in [0, n_states)."""
    lab = np.asarray(labels)
    if lab.ndim != 1 or lab.size == 0:
        raise ValueError(f"labels must be a non-empty 1D array, got shape {lab.shape}")
    if not np.issubdtype(lab.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {lab.dtype}")
    if n_states < 1 or lab.min() < 0 or lab.max() >= n_states:
        raise ValueError(f"labels must lie in [0, {n_states}), got [{lab.min()}, {lab.max()}]")
    return lab.astype(np.intp)


def _check_weights(weights: np.ndarray | None, n: int) -> np.ndarray:
    """(n,) finite non-negative weights with a positive sum; ones when ``None``."""
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=float)
    if w.shape != (n,):
        raise ValueError(f"weights must have shape ({n},), got {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("weights must be finite, non-negative and not all zero")
    return w


def _group_codes(groups: np.ndarray | None, n: int) -> np.ndarray:
    """(n,) group indices 0..G-1 (all zero when ``None``)."""
    if groups is None:
        return np.zeros(n, dtype=np.intp)
    g = np.asarray(groups)
    if g.shape != (n,):
        raise ValueError(f"groups must have shape ({n},), got {g.shape}")
    return np.unique(g, return_inverse=True)[1].reshape(-1)


def state_populations(
    labels: np.ndarray, n_states: int, weights: np.ndarray | None = None
) -> np.ndarray:
    """(S,) fraction of frames (or of total weight) in each state, from (N,) integer labels."""
    lab = _check_labels(labels, n_states)
    w = _check_weights(weights, lab.size)
    return np.bincount(lab, weights=w, minlength=n_states) / w.sum()


def statistical_inefficiency(
    labels: np.ndarray, n_states: int, *, groups: np.ndarray | None = None
) -> float:
    """Statistical inefficiency g of the state indicators, the largest over the states.

    Each state's indicator (1 in the state, 0 elsewhere) is one observable sampled along
    every group (independent trajectories, frames in time order within each), and its g comes
    from :func:`thermogen.analysis.timeseries.statistical_inefficiency`, which pools the groups.
    g is about the number of frames per independent sample; states that never or always occur
    are ignored. Returns at least 1.

    Parameters
    ----------
    labels
        (N,) integer states in [0, n_states).
    n_states
        Number of states S.
    groups
        (N,) group id of each frame; one group when ``None``.
    """
    lab = _check_labels(labels, n_states)
    codes = _group_codes(groups, lab.size)
    order = np.argsort(codes, kind="stable")
    series = np.split(lab[order], np.cumsum(np.bincount(codes))[:-1])
    return max(
        timeseries.statistical_inefficiency([s == k for s in series]) for k in range(n_states)
    )


def _block_ids(codes: np.ndarray, block_length: int) -> np.ndarray:
    """(N,) block index of each frame: contiguous runs of ``block_length`` frames per group."""
    sizes = np.bincount(codes)
    order = np.argsort(codes, kind="stable")
    position = np.empty(codes.size, dtype=np.intp)
    position[order] = np.arange(codes.size) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    blocks_per_group = -(-sizes // block_length)
    return (np.cumsum(blocks_per_group) - blocks_per_group)[codes] + position // block_length


def _block_length(
    labels: np.ndarray, n_states: int, codes: np.ndarray, block_length: int | None
) -> int:
    """Frames per bootstrap block: ``block_length``, or ``ceil(BLOCK_FACTOR * g)`` when None."""
    if block_length is None:
        g = statistical_inefficiency(labels, n_states, groups=codes)
        block_length = int(np.ceil(BLOCK_FACTOR * g))
    if block_length < 1:
        raise ValueError(f"block_length must be positive, got {block_length}")
    return block_length


def _block_sums(
    labels: np.ndarray, n_states: int, weights: np.ndarray, blocks: np.ndarray
) -> np.ndarray:
    """(n_blocks, S) total weight of each state in each block, from (N,) block ids."""
    n_blocks = int(blocks.max()) + 1
    return np.bincount(
        blocks * n_states + labels, weights=weights, minlength=n_blocks * n_states
    ).reshape(n_blocks, n_states)


def _resampled_sums(block_sums: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """(n_boot, S) sums of ``n_blocks`` rows of (n_blocks, S) drawn with replacement."""
    n_blocks = block_sums.shape[0]
    chunk = max(1, _CHUNK_ELEMENTS // n_blocks)
    out = np.empty((n_boot, block_sums.shape[1]))
    for start in range(0, n_boot, chunk):
        size = min(chunk, n_boot - start)
        draws = rng.integers(0, n_blocks, size=(size, n_blocks))
        draws += n_blocks * np.arange(size)[:, None]
        multiplicity = np.bincount(draws.ravel(), minlength=size * n_blocks)
        out[start : start + size] = multiplicity.reshape(size, n_blocks) @ block_sums
    return out


def bootstrap_populations(
    labels: np.ndarray,
    n_states: int,
    *,
    weights: np.ndarray | None = None,
    groups: np.ndarray | None = None,
    block_length: int | None = None,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int | np.random.Generator | None = None,
) -> PopulationEstimate:
    """State populations with a block-bootstrap standard error and percentile interval.

    Parameters
    ----------
    labels
        (N,) integer states in [0, n_states).
    n_states
        Number of states S.
    weights
        (N,) non-negative frame weights (e.g. MBAR weights); populations are weight fractions.
    groups
        (N,) group id of each frame (e.g. replica trajectory); frames are in time order within a
        group, and blocks never cross groups. One group when ``None``.
    block_length
        Frames per block. Each group is cut into contiguous blocks (the last may be shorter) and
        blocks from all groups are resampled with replacement. ``None`` chooses
        ``ceil(BLOCK_FACTOR * g)`` with g the :func:`statistical_inefficiency` of the state
        indicators, so each block spans several correlation times (use 1 for i.i.d. frames).
    n_boot
        Number of bootstrap replicates.
    confidence
        Coverage of the percentile interval.
    seed
        Seed or generator for resampling.

    Returns
    -------
    PopulationEstimate
        Populations (S,) from all frames, bootstrap standard errors and percentile interval.
        Warns if fewer than ``MIN_BLOCKS`` blocks are available.
    """
    lab = _check_labels(labels, n_states)
    w = _check_weights(weights, lab.size)
    codes = _group_codes(groups, lab.size)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    if n_boot < 2:
        raise ValueError(f"n_boot must be at least 2, got {n_boot}")
    block_length = _block_length(lab, n_states, codes, block_length)
    block_sums = _block_sums(lab, n_states, w, _block_ids(codes, block_length))
    n_blocks = block_sums.shape[0]
    if n_blocks < MIN_BLOCKS:
        warnings.warn(
            f"only {n_blocks} bootstrap blocks of {block_length} frames: the trajectories are "
            "too short for their correlation time and the error bars are unreliable",
            RuntimeWarning,
            stacklevel=2,
        )
    boot = _resampled_sums(block_sums, n_boot, np.random.default_rng(seed))
    boot /= boot.sum(axis=1, keepdims=True)
    low, high = np.quantile(boot, [(1 - confidence) / 2, (1 + confidence) / 2], axis=0)
    return PopulationEstimate(
        value=block_sums.sum(axis=0) / w.sum(),
        std_error=boot.std(axis=0, ddof=1),
        low=low,
        high=high,
        block_length=block_length,
        confidence=confidence,
    )
