"""The grouping of frames into continuous trajectories, :class:`Trajectories`.

:meth:`thermogen.data.MultiTempDataset.trajectories` builds one from a dataset's ``replica`` and
``time``, :meth:`Trajectories.from_arrays` from any such pair of arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Trajectories"]


@dataclass(frozen=True, eq=False)
class Trajectories:
    """N frames grouped into M trajectories (one per replica id), each in time order.

    Build it with :meth:`MultiTempDataset.trajectories` (or :meth:`from_arrays`). A trajectory
    may have gaps in time; its frames are only sorted, not checked for continuity.

    Attributes
    ----------
    order
        (N,) int64 frame indices sorted by replica id, then by time: the frames of trajectory
        m are ``order[starts[m] : starts[m] + lengths[m]]``.
    starts
        (M,) int64 position in ``order`` of the first frame of each trajectory.
    replica_ids
        (M,) int64 replica id of each trajectory, ascending.

    Examples
    --------
    >>> import numpy as np
    >>> traj = Trajectories.from_arrays(np.array([7, 3, 7, 3]), np.array([1, 5, 0, 4]))
    >>> traj.replica_ids.tolist(), traj.lengths.tolist()
    ([3, 7], [2, 2])
    >>> [s.tolist() for s in traj.segments]
    [[3, 1], [2, 0]]
    """

    order: np.ndarray
    starts: np.ndarray
    replica_ids: np.ndarray

    @classmethod
    def from_arrays(cls, replica: np.ndarray, time: np.ndarray | None = None) -> Trajectories:
        """Group frames into trajectories by replica id and sort each by time.

        Parameters
        ----------
        replica
            (N,) int trajectory id of each frame.
        time
            (N,) int frame index inside its trajectory, or None to keep the frames of one
            replica in array order.
        """
        replica = np.asarray(replica, dtype=np.int64)
        position = np.arange(replica.size) if time is None else np.asarray(time)
        order = np.lexsort((position, replica))
        sorted_ids = replica[order]
        starts = np.flatnonzero(np.r_[sorted_ids.size > 0, sorted_ids[1:] != sorted_ids[:-1]])
        arrays = (order, starts, sorted_ids[starts])
        for a in arrays:
            a.setflags(write=False)
        return cls(*arrays)

    @property
    def lengths(self) -> np.ndarray:
        """(M,) int64 number of frames of each trajectory."""
        return np.diff(np.r_[self.starts, self.order.size])

    @property
    def segments(self) -> list[np.ndarray]:
        """M arrays of frame indices, one per trajectory in time order (views of ``order``)."""
        return [self.order[s : s + n] for s, n in zip(self.starts, self.lengths, strict=True)]
