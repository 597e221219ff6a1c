"""Splitting a :class:`MultiTempDataset` by temperature or by time, and time-lagged frame pairs.

Frames of a trajectory are correlated in time, so validation frames are taken from the end of
each trajectory rather than at random: a random split would leak near-copies of training frames.
"""

from __future__ import annotations

import operator

import numpy as np

from ..errors import InputError
from .dataset import MultiTempDataset

__all__ = ["lagged_pairs", "split_by_temperature", "train_validation_split"]


def split_by_temperature(ds: MultiTempDataset) -> dict[float, MultiTempDataset]:
    """One dataset per temperature, keyed by temperature in ascending order.

    Parameters
    ----------
    ds
        N frames at K distinct temperatures.

    Returns
    -------
    dict
        K entries ``{T: frames sampled at T}``, each keeping the file order of its frames.
    """
    return {float(t): ds.subset(np.flatnonzero(ds.temperature == t)) for t in ds.temperatures}


def train_validation_split(
    ds: MultiTempDataset, validation_fraction: float = 0.1
) -> tuple[MultiTempDataset, MultiTempDataset]:
    """Split frames in time: the last part of every time series is the validation set.

    With ``replica`` and ``time`` a time series is one trajectory ordered by ``time``; without
    them it is the frames of one temperature in file order. The last
    ``round(validation_fraction * length)`` frames of each series (halves round up) are for
    validation, the rest for training.

    Parameters
    ----------
    ds
        N frames.
    validation_fraction
        Fraction of each time series held out, strictly between 0 and 1.

    Returns
    -------
    tuple of MultiTempDataset
        ``(train, validation)``; no frame is in both. Each holds its frames series by series
        (ascending replica id or temperature), in time order inside each series.

    Raises
    ------
    ValueError
        If ``validation_fraction`` is not in (0, 1).
    InputError
        If the series are too short for either part to receive a frame.
    """
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(
            f"validation_fraction must be between 0 and 1 (exclusive), got {validation_fraction!r}"
        )
    if ds.has_trajectories:
        series, position = ds.replica, ds.time
    else:
        series, position = ds.temperature, np.arange(ds.n_frames)
    order = np.lexsort((position, series))
    rank, length = _rank_in_group(series[order])
    n_validation = np.floor(validation_fraction * length + 0.5).astype(np.int64)
    is_validation = rank >= length - n_validation
    if is_validation.all() or not is_validation.any():
        empty = "training" if is_validation.all() else "validation"
        raise InputError(
            ds.source,
            "validation_fraction",
            f"{validation_fraction:g} leaves the {empty} set empty: the time series "
            f"have at most {length.max()} frames",
        )
    return ds.subset(order[~is_validation]), ds.subset(order[is_validation])


def lagged_pairs(ds: MultiTempDataset, lag: int) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs of frames ``lag`` time steps apart in the same trajectory.

    Parameters
    ----------
    ds
        N frames with ``replica`` and ``time``, in any order; trajectories may have gaps.
    lag
        Time difference in frames, at least 1.

    Returns
    -------
    i, j : np.ndarray
        (P,) int64 frame indices with ``replica[i] == replica[j]`` and
        ``time[j] == time[i] + lag``, ordered by replica then ``time[i]``.

    Raises
    ------
    InputError
        If the dataset has no trajectory information.
    ValueError
        If ``lag`` < 1.
    """
    lag = operator.index(lag)
    if lag < 1:
        raise ValueError(f"lag must be a positive number of frames, got {lag}")
    if not ds.has_trajectories:
        raise InputError(
            ds.source,
            "replica",
            "time-lagged pairs need trajectory information "
            "('replica' and 'time'), but the dataset has none",
        )
    order = np.lexsort((ds.time, ds.replica))
    key = _trajectory_key(ds.replica[order], ds.time[order], lag)
    target = key + lag
    found = np.minimum(np.searchsorted(key, target), key.size - 1)
    hit = key[found] == target
    return order[hit], order[found[hit]]


def _rank_in_group(group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of each element inside its run of equal values, and that run's length.

    Parameters
    ----------
    group
        (N,) labels, equal labels adjacent (sorted).

    Returns
    -------
    rank, length : np.ndarray
        (N,) int64 each.
    """
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    lengths = np.diff(np.r_[starts, group.size])
    return np.arange(group.size) - np.repeat(starts, lengths), np.repeat(lengths, lengths)


def _trajectory_key(replica: np.ndarray, time: np.ndarray, lag: int) -> np.ndarray:
    """(N,) strictly increasing int64 key for frames sorted by (replica, time).

    Inside a trajectory the key is ``time`` plus a constant, so a lag in time is the same lag in
    key; trajectories are spaced more than ``lag`` apart, so ``key + lag`` never reaches the
    next trajectory.
    """
    rank, length = _rank_in_group(replica)
    first = np.flatnonzero(rank == 0)
    start, end = time[first], time[first + length[first] - 1]
    offset = np.r_[0, np.cumsum(end - start + lag + 1)[:-1]] - start
    return time + np.repeat(offset, length[first])
