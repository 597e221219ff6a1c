"""Splits by temperature and by time, and time-lagged pairs, on small hand-made datasets.

Feature 0 of every frame is its index in the original dataset, so a subset shows which frames
it took and in which order.
"""

from __future__ import annotations

import numpy as np
import pytest

from thermogen.data import (
    MultiTempDataset,
    lagged_pairs,
    split_by_temperature,
    train_validation_split,
)
from thermogen.errors import InputError

# Two interleaved, unsorted trajectories with gaps in time.
#   replica 0 by time: t0 -> frame 1, t1 -> 8, t3 -> 4, t5 -> 6, t9 -> 3
#   replica 1 by time: t0 -> frame 2, t2 -> 5, t4 -> 0, t6 -> 7, t9 -> 9
REPLICA = [1, 0, 1, 0, 0, 1, 0, 1, 0, 1]
TIME = [4, 0, 0, 9, 3, 2, 5, 6, 1, 9]
TEMPERATURE = [300, 400, 300, 300, 400, 400, 300, 400, 300, 400]


def indexed(temperature: list[float], **fields: list[int]) -> MultiTempDataset:
    """A dataset whose single feature is the frame index."""
    n = len(temperature)
    return MultiTempDataset(
        np.arange(n, dtype=float)[:, None],
        np.array(temperature, float),
        source="hand.npz",
        **{k: np.array(v) for k, v in fields.items()},
    )


def frames(ds: MultiTempDataset) -> list[int]:
    return ds.features[:, 0].astype(int).tolist()


# ---------------------------------------------------------------------- by temperature


def test_split_by_temperature_ascending_and_in_file_order() -> None:
    parts = split_by_temperature(indexed([350, 300, 350, 300, 400]))
    assert list(parts) == [300.0, 350.0, 400.0]
    assert {t: frames(ds) for t, ds in parts.items()} == {300.0: [1, 3], 350.0: [0, 2], 400.0: [4]}
    assert all(ds.source == "hand.npz" for ds in parts.values())


def test_require_temperatures_names_temperature_for_single_temperature_data() -> None:
    ds = indexed([300, 300, 300])
    with pytest.raises(InputError, match=r"field 'temperature'.*found 1 \(300\)") as info:
        ds.require_temperatures(2, "temperature transfer")
    assert info.value.field == "temperature" and info.value.source == "hand.npz"
    ds.subset(np.array([0, 1])).require_temperatures(1, "anything")


# ---------------------------------------------------------------------- by time


@pytest.mark.parametrize(
    ("fraction", "train", "validation"),
    [
        (0.2, [1, 8, 4, 6, 2, 5, 0, 7], [3, 9]),
        (0.4, [1, 8, 4, 2, 5, 0], [6, 3, 7, 9]),
        (0.6, [1, 8, 2, 5], [4, 6, 3, 0, 7, 9]),
    ],
)
def test_train_validation_split_by_trajectory(
    fraction: float, train: list[int], validation: list[int]
) -> None:
    ds = indexed(TEMPERATURE, replica=REPLICA, time=TIME)
    tr, va = train_validation_split(ds, validation_fraction=fraction)
    assert (frames(tr), frames(va)) == (train, validation)
    assert not set(frames(tr)) & set(frames(va))
    for part in (tr, va):
        for r in (0, 1):
            assert np.all(np.diff(part.time[part.replica == r]) > 0)


def test_train_validation_split_without_trajectories_uses_file_order_per_temperature() -> None:
    # 300: frames 0, 2, 3, 6, 8    400: frames 1, 4, 5, 7, 9
    tr, va = train_validation_split(indexed(TEMPERATURE), validation_fraction=0.4)
    assert frames(tr) == [0, 2, 3, 1, 4, 5]
    assert frames(va) == [6, 8, 7, 9]


def test_train_validation_split_rounds_each_series() -> None:
    # 3 frames at 300 and 7 at 400: 0.25 * 3 = 0.75 -> 1 and 0.25 * 7 = 1.75 -> 2 held out.
    ds = indexed([300, 400, 400, 300, 400, 400, 400, 300, 400, 400])
    tr, va = train_validation_split(ds, validation_fraction=0.25)
    assert frames(tr) == [0, 3, 1, 2, 4, 5, 6]
    assert frames(va) == [7, 8, 9]


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5, float("nan")])
def test_train_validation_split_rejects_bad_fraction(fraction: float) -> None:
    with pytest.raises(ValueError, match="validation_fraction must be between 0 and 1"):
        train_validation_split(indexed(TEMPERATURE), validation_fraction=fraction)


def test_train_validation_split_refuses_an_empty_part() -> None:
    with pytest.raises(InputError, match="leaves the validation set empty"):
        train_validation_split(indexed([300, 300, 400, 400]), validation_fraction=0.1)


# ---------------------------------------------------------------------- lagged pairs

# frame:     0  1  2  3  4  5  6  7
LAG_REPLICA = [0, 1, 0, 1, 0, 1, 0, 2]
LAG_TIME = [5, 0, 1, 1, 2, 3, 0, 7]
# replica 0 by time: t0 -> 6, t1 -> 2, t2 -> 4, t5 -> 0; replica 1: t0 -> 1, t1 -> 3, t3 -> 5;
# replica 2: t7 -> 7.


@pytest.mark.parametrize(
    ("lag", "i", "j"),
    [
        (1, [6, 2, 1], [2, 4, 3]),
        (2, [6, 3], [4, 5]),
        (3, [4, 1], [0, 5]),
        (4, [2], [0]),
        (5, [6], [0]),
        (6, [], []),  # replica 0 at t1 + 6 = t7 exists only in replica 2
    ],
)
def test_lagged_pairs_exact_indices(lag: int, i: list[int], j: list[int]) -> None:
    ds = indexed([300] * 8, replica=LAG_REPLICA, time=LAG_TIME)
    got_i, got_j = lagged_pairs(ds, lag)
    assert (got_i.tolist(), got_j.tolist()) == (i, j)


def test_lagged_pairs_never_cross_trajectories() -> None:
    # Replica 0 ends at t=2 and replica 5 starts at t=3: lag 1 must not join them.
    ds = indexed([1, 1, 1, 1], replica=[5, 0, 5, 0], time=[3, 2, 4, 1])
    i, j = lagged_pairs(ds, 1)
    assert (i.tolist(), j.tolist()) == ([3, 0], [1, 2])


def test_lagged_pairs_on_a_million_shuffled_frames() -> None:
    n_replicas, length, lag = 50, 20_000, 7
    rng = np.random.default_rng(0)
    order = rng.permutation(n_replicas * length)
    replica = np.repeat(np.arange(n_replicas), length)[order]
    time = np.tile(np.arange(length), n_replicas)[order]
    ds = MultiTempDataset(
        np.zeros((replica.size, 1)),
        np.ones(replica.size),
        replica=replica,
        time=time,
        temperature_unit="reduced",
        energy_unit="reduced",
    )
    i, j = lagged_pairs(ds, lag)
    assert i.size == n_replicas * (length - lag)
    np.testing.assert_array_equal(replica[i], replica[j])
    np.testing.assert_array_equal(time[j] - time[i], lag)


def test_lagged_pairs_needs_trajectories() -> None:
    with pytest.raises(InputError, match="field 'replica'") as info:
        lagged_pairs(indexed([300, 300]), 1)
    assert info.value.source == "hand.npz"


@pytest.mark.parametrize("lag", [0, -3])
def test_lagged_pairs_rejects_non_positive_lag(lag: int) -> None:
    ds = indexed([300] * 8, replica=LAG_REPLICA, time=LAG_TIME)
    with pytest.raises(ValueError, match="lag must be a positive"):
        lagged_pairs(ds, lag)
