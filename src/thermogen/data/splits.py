"""Splitting a :class:`MultiTempDataset` by temperature or by time, and time-lagged frame pairs.

Frames of a trajectory are correlated in time, so validation frames are taken from the end of
each trajectory rather than at random: a random split would leak near-copies of training frames.
"""

from __future__ import annotations

import operator

import numpy as np

from ..errors import InputError
from .dataset import MultiTempDataset, Trajectories

__all__ = [
    "lagged_pairs",
    "split_by_temperature",
    "train_validation_indices",
    "train_validation_split",
]


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

    The frames of :func:`train_validation_indices`, which says how the time series are cut.

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
    train, validation = train_validation_indices(ds, validation_fraction)
    return ds.subset(train), ds.subset(validation)


def train_validation_indices(
    ds: MultiTempDataset, fraction: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """Frame indices of the two parts of :func:`train_validation_split`.

    With ``replica`` and ``time`` a time series is one trajectory ordered by ``time``; without
    them it is the frames of one temperature in file order. The last
    ``round(fraction * length)`` frames of each series (halves round up) are for validation,
    the rest for training.

    Parameters
    ----------
    ds
        N frames.
    fraction
        Fraction of each time series held out for validation, strictly between 0 and 1.

    Returns
    -------
    train_index, validation_index : np.ndarray
        (N_train,) and (N_validation,) int64 indices into ``ds``, N_train + N_validation = N,
        no frame in both. Each lists its frames series by series (ascending replica id or
        temperature), in time order inside each series.

    Raises
    ------
    ValueError
        If ``fraction`` is not in (0, 1).
    InputError
        If the series are too short for either part to receive a frame.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(
            f"validation_fraction must be between 0 and 1 (exclusive), got {fraction!r}"
        )
    if ds.has_trajectories:
        series = ds.trajectories().segments
    else:
        series = [np.flatnonzero(ds.temperature == t) for t in ds.temperatures]
    length = np.array([s.size for s in series])
    n_train = length - np.floor(fraction * length + 0.5).astype(np.int64)
    if not n_train.any() or np.array_equal(n_train, length):
        empty = "training" if not n_train.any() else "validation"
        raise InputError(
            ds.source,
            "validation_fraction",
            f"{fraction:g} leaves the {empty} set empty: the time series "
            f"have at most {length.max()} frames",
        )
    return (
        np.concatenate([s[:n] for s, n in zip(series, n_train, strict=True)]),
        np.concatenate([s[n:] for s, n in zip(series, n_train, strict=True)]),
    )


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
    trajectories = ds.trajectories()
    key = _trajectory_key(trajectories, ds.time, lag)
    target = key + lag
    found = np.minimum(np.searchsorted(key, target), key.size - 1)
    hit = key[found] == target
    order = trajectories.order
    return order[hit], order[found[hit]]


def _trajectory_key(trajectories: Trajectories, time: np.ndarray, lag: int) -> np.ndarray:
    """(N,) strictly increasing int64 key of the frames in ``trajectories.order``.

    Inside a trajectory the key is ``time`` (N,) plus a constant, so a lag in time is the same
    lag in key; trajectories are spaced more than ``lag`` apart, so ``key + lag`` never reaches
    the next trajectory.
    """
    time = time[trajectories.order]
    lengths = trajectories.lengths
    start = time[trajectories.starts]
    end = time[trajectories.starts + lengths - 1]
    offset = np.r_[0, np.cumsum(end - start + lag + 1)[:-1]] - start
    return time + np.repeat(offset, lengths)
