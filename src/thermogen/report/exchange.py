"""How well a temperature ladder is connected: energy overlap, swap acceptance, round trips."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..data.dataset import MultiTempDataset
from ..simulate.round_trips import count_round_trips

__all__ = ["LadderExchange", "ladder_exchange", "overlap_coefficient", "round_trips_from_data"]

_OVERLAP_BINS = 60


def overlap_coefficient(a: np.ndarray, b: np.ndarray, bins: int = _OVERLAP_BINS) -> float:
    """Overlap coefficient sum_i min(p_i, q_i) of the histograms of two samples on shared bins.

    1 for identical distributions, 0 for disjoint ones (dimensionless). The bins span both
    samples together.
    """
    a, b = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    if a.size == 0 or b.size == 0:
        return float("nan")
    edges = np.histogram_bin_edges(np.concatenate([a, b]), bins=bins)
    p = np.histogram(a, edges)[0] / a.size
    q = np.histogram(b, edges)[0] / b.size
    return float(np.minimum(p, q).sum())


def round_trips_from_data(dataset: MultiTempDataset) -> int | None:
    """Lowest -> highest -> lowest temperature round trips of the replicas, counted in the data.

    Each ``replica`` id is one continuous trajectory in ``time`` order (frame order when there
    is no ``time``). Frames are strided, so trips completed between two frames are missed: the
    count is a lower bound. ``None`` when the data carry no ``replica`` ids, have fewer than two
    temperatures, or no replica changes temperature (trajectories per temperature).
    """
    temps = dataset.temperatures
    if dataset.replica is None or temps.size < 2:
        return None
    state = np.searchsorted(temps, dataset.temperature)
    segments = dataset.trajectories().segments
    if all(np.unique(state[s]).size == 1 for s in segments):
        return None
    longest = max(s.size for s in segments)
    grid = np.full((longest, len(segments)), -1, dtype=np.int64)  # -1: no frame
    for column, s in enumerate(segments):
        grid[: s.size, column] = state[s]
    return count_round_trips(grid, temps.size)


@dataclass(frozen=True)
class LadderExchange:
    """Exchange statistics of each neighbouring pair of temperatures.

    Attributes
    ----------
    temperatures
        (K,) the ladder.
    energy_overlap
        (K-1,) overlap coefficient of the potential-energy histograms of each neighbouring pair
        (NaN without energies).
    mbar_overlap
        (K-1,) MBAR overlap matrix element O[k, k+1] (NaN when MBAR was not run).
    swap_acceptance
        (K-1,) fraction of accepted swaps from the simulation record (NaN for a pair where the
        record says no swap was attempted), or ``None`` if not known.
    round_trips
        Replica round trips lowest -> highest -> lowest, or ``None`` if not known.
    round_trips_source
        Where the round trips come from (the record or the data), or why they are not known.
    """

    temperatures: np.ndarray
    energy_overlap: np.ndarray
    mbar_overlap: np.ndarray
    swap_acceptance: np.ndarray | None
    round_trips: int | None
    round_trips_source: str


def ladder_exchange(
    dataset: MultiTempDataset, record: dict[str, Any], mbar_overlap: np.ndarray | None = None
) -> LadderExchange:
    """Exchange statistics of the data's ladder from the data, MBAR and the simulation record.

    Parameters
    ----------
    dataset
        Frames at K temperatures (energies optional).
    record
        The ``<data>.run.json`` of ``thermogen simulate`` (may be empty): ``results`` holds
        ``swap_acceptance`` (K-1 fractions), optionally ``swap_attempts``, and ``round_trips``;
        they are used only when the
        record's ladder (``settings.temperatures``) is the data's.
    mbar_overlap
        (K, K) MBAR overlap matrix, when MBAR ran on these temperatures.
    """
    temps = dataset.temperatures
    pairs = range(temps.size - 1)
    if dataset.has_energy:
        energy = [dataset.energy[dataset.temperature == t] for t in temps]
        overlap = np.array([overlap_coefficient(energy[k], energy[k + 1]) for k in pairs])
    else:
        overlap = np.full(temps.size - 1, np.nan)
    mbar = (
        np.array([mbar_overlap[k, k + 1] for k in pairs])
        if mbar_overlap is not None and mbar_overlap.shape == (temps.size, temps.size)
        else np.full(temps.size - 1, np.nan)
    )
    results = record.get("results", {})
    ladder = np.asarray(record.get("settings", {}).get("temperatures", []), dtype=float)
    same_ladder = ladder.shape == temps.shape and np.allclose(ladder, temps, rtol=1e-6)
    acceptance = np.asarray(results.get("swap_acceptance", []), dtype=float)
    swaps = acceptance if same_ladder and acceptance.shape == (temps.size - 1,) else None
    attempts = np.asarray(results.get("swap_attempts", []), dtype=float)
    if swaps is not None and attempts.shape == swaps.shape:
        swaps = np.where(attempts > 0, swaps, np.nan)
    if same_ladder and isinstance(results.get("round_trips"), int):
        trips, source = int(results["round_trips"]), "the simulation record"
    else:
        trips = round_trips_from_data(dataset)
        source = (
            "counted in the data's replica trajectories (a lower bound: frames are strided)"
            if trips is not None
            else "no simulation record, and no replica trajectories in the data that change "
            "temperature"
        )
    return LadderExchange(temps, overlap, mbar, swaps, trips, source)
