"""Replica round trips: lowest -> highest -> lowest temperature, the measure of REMD mixing."""

from __future__ import annotations

import numpy as np

__all__ = ["RoundTripCounter", "count_round_trips"]


class RoundTripCounter:
    """Count round trips of replicas fed one exchange step at a time.

    Parameters
    ----------
    n_states
        Number of temperatures K (index 0 the lowest, K - 1 the highest).
    shape
        Shape of the state arrays given to :meth:`update` (one entry per replica).
    """

    def __init__(self, n_states: int, shape: tuple[int, ...]) -> None:
        self.n_states = n_states
        # 0: bottom not reached yet, 1: left the bottom, 2: reached the top since the bottom
        self._phase = np.zeros(shape, dtype=np.int8)
        self.count = 0

    def update(self, states: np.ndarray) -> None:
        """Record the temperature index of every replica after one step (int array, ``shape``)."""
        at_bottom, at_top = states == 0, states == self.n_states - 1
        self.count += int((at_bottom & (self._phase == 2)).sum())
        self._phase[at_bottom] = 1
        self._phase[at_top & (self._phase == 1)] = 2


def count_round_trips(state_index: np.ndarray, n_states: int) -> int:
    """Round trips lowest -> highest -> lowest temperature, summed over replicas.

    Parameters
    ----------
    state_index
        (n_iterations, R) int: the temperature index of each replica at each iteration.
    n_states
        Number of temperatures K.

    Examples
    --------
    >>> count_round_trips(np.array([[0], [1], [2], [1], [0], [2], [0]]), 3)
    2
    """
    state_index = np.asarray(state_index)
    counter = RoundTripCounter(n_states, state_index.shape[1:])
    for states in state_index:
        counter.update(states)
    return counter.count
