"""MultiTempDataset.trajectories() and train_validation_indices on small hand-made datasets.

Feature 0 of every frame is its index in the dataset, so a subset shows which frames it took.
"""

from __future__ import annotations

import numpy as np
import pytest

from thermogen.data import (
    MultiTempDataset,
    Trajectories,
    train_validation_indices,
    train_validation_split,
)
from thermogen.errors import InputError

# Three shuffled trajectories with gaps in time and ids that are neither 0.. nor in file order.
#   replica 2 by time: t0 -> frame 5, t3 -> 0, t4 -> 9
#   replica 4 by time: t1 -> frame 3, t2 -> 7, t5 -> 1, t8 -> 10, t9 -> 4
#   replica 9 by time: t0 -> frame 8, t7 -> 2, t8 -> 6
REPLICA = [2, 4, 9, 4, 4, 2, 9, 4, 9, 2, 4]
TIME = [3, 5, 7, 1, 9, 0, 8, 2, 0, 4, 8]
TEMPERATURE = [300, 400, 300, 300, 400, 400, 300, 400, 300, 400, 300]
SEGMENTS = [[5, 0, 9], [3, 7, 1, 10, 4], [8, 2, 6]]


def indexed(**fields: list[int]) -> MultiTempDataset:
    """The hand-made dataset, its single feature the frame index, with the given fields."""
    return MultiTempDataset(
        np.arange(len(TEMPERATURE), dtype=float)[:, None],
        np.array(TEMPERATURE, float),
        source="hand.npz",
        **{k: np.array(v) for k, v in fields.items()},
    )


def test_trajectories_of_shuffled_frames_from_several_replicas() -> None:
    traj = indexed(replica=REPLICA, time=TIME).trajectories()
    assert isinstance(traj, Trajectories)
    assert [s.tolist() for s in traj.segments] == SEGMENTS
    assert traj.order.tolist() == [5, 0, 9, 3, 7, 1, 10, 4, 8, 2, 6]
    assert traj.replica_ids.tolist() == [2, 4, 9]
    assert traj.lengths.tolist() == [3, 5, 3]
    assert traj.starts.tolist() == [0, 3, 8]
    for segment, replica in zip(traj.segments, traj.replica_ids, strict=True):
        assert np.all(np.array(REPLICA)[segment] == replica)
        assert np.all(np.diff(np.array(TIME)[segment]) > 0)
    assert not traj.order.flags.writeable


def test_trajectories_without_time_keep_file_order_per_replica() -> None:
    traj = indexed(replica=REPLICA).trajectories()
    assert [s.tolist() for s in traj.segments] == [[0, 5, 9], [1, 3, 4, 7, 10], [2, 6, 8]]
    assert traj.replica_ids.tolist() == [2, 4, 9]


def test_trajectories_need_replica_ids() -> None:
    with pytest.raises(InputError, match=r"hand\.npz: field 'replica'"):
        indexed().trajectories()


def test_trajectories_from_arrays_match_the_dataset_method() -> None:
    traj = Trajectories.from_arrays(np.array(REPLICA), np.array(TIME))
    assert [s.tolist() for s in traj.segments] == SEGMENTS
    empty = Trajectories.from_arrays(np.array([], dtype=int))
    assert (empty.segments, empty.lengths.tolist(), empty.replica_ids.tolist()) == ([], [], [])


@pytest.mark.parametrize("fraction", [0.2, 0.34, 0.5, 0.7])
@pytest.mark.parametrize("fields", [{"replica": REPLICA, "time": TIME}, {}, {"replica": REPLICA}])
def test_train_validation_indices_are_the_frames_of_the_split(
    fraction: float, fields: dict[str, list[int]]
) -> None:
    ds = indexed(**fields)
    train_index, validation_index = train_validation_indices(ds, fraction)
    train, validation = train_validation_split(ds, validation_fraction=fraction)
    np.testing.assert_array_equal(ds.features[train_index], train.features)
    np.testing.assert_array_equal(ds.features[validation_index], validation.features)
    assert train_index.dtype == validation_index.dtype == np.int64
    assert sorted([*train_index, *validation_index]) == list(range(ds.n_frames))


def test_train_validation_indices_hold_out_the_end_of_each_trajectory() -> None:
    train_index, validation_index = train_validation_indices(
        indexed(replica=REPLICA, time=TIME), 0.4
    )
    # 0.4 * 3 = 1.2 -> 1 and 0.4 * 5 = 2 frames held out, from the end of each trajectory
    assert train_index.tolist() == [5, 0, 3, 7, 1, 8, 2]
    assert validation_index.tolist() == [9, 10, 4, 6]


def test_train_validation_indices_check_the_fraction() -> None:
    with pytest.raises(ValueError, match="validation_fraction must be between 0 and 1"):
        train_validation_indices(indexed(), 1.0)
    with pytest.raises(InputError, match="leaves the validation set empty"):
        train_validation_indices(indexed(replica=REPLICA, time=TIME), 0.05)
