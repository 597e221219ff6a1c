"""Features of the frames of an openmmtools store, demultiplexed by replica or grouped by state.

See :mod:`thermogen.data.openmmtools_store` for the store's layout and units.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import mdtraj as md
import numpy as np
from tqdm import tqdm

from ..errors import UsageError
from .dataset import MultiTempDataset
from .featurize import Featurizer
from .store_reader import OpenMMToolsStore, to_trajectory

__all__ = ["featurize_store"]

BY_CHOICES = ("replica", "state")
"""How :func:`featurize_store` orders frames: by replica (trajectories) or by state."""


def featurize_store(
    store: OpenMMToolsStore,
    topology: md.Topology,
    featurizer: Featurizer,
    *,
    by: str = "replica",
    first_iteration: int = 1,
    stride: int = 1,
    chunk: int = 100,
    progress: bool = False,
    topology_source: str | Path = "the topology",
) -> MultiTempDataset:
    """Features of every stored frame of a store, demultiplexed by replica or grouped by state.

    Parameters
    ----------
    store
        The open store.
    topology
        Topology of the simulated system (the store has none); atom count must match.
    featurizer
        Features to compute, resolved against ``topology``.
    by
        ``"replica"``: each replica's continuous trajectory through the temperatures
        (``replica``, ``time`` set); ``"state"``: frames grouped by temperature (no trajectories).
    first_iteration
        First iteration read (default 1: iteration 0 holds the starting structures).
    stride
        Keep every ``stride``-th stored iteration.
    chunk
        Iterations read at a time.
    progress
        Show a progress bar over iterations.
    topology_source
        Topology file, named in error messages.

    Returns
    -------
    MultiTempDataset
        F * R frames with temperature (K) and energy (kJ/mol; U + pV at constant pressure).
        By replica they are ordered by replica then time; by state, by temperature then iteration.
    """
    if by not in BY_CHOICES:
        raise UsageError(f"--by must be one of {', '.join(BY_CHOICES)}, got {by!r}")
    store.check_topology(topology, topology_source)
    iterations = store.frame_iterations(first_iteration, stride)
    values = _features(store, topology, featurizer, iterations, chunk, progress)  # (F, R, D)
    states = store.states[iterations]  # (F, R)
    energy = store.potential_energies[iterations]
    temperature = store.temperatures[states]
    order, extra = _frame_order(states, by)
    return MultiTempDataset(
        features=values.reshape(-1, values.shape[2])[order],
        temperature=temperature.ravel()[order],
        energy=energy.ravel()[order],
        feature_names=featurizer.names,
        periodic=featurizer.periodic,
        temperature_unit="K",
        energy_unit="kJ/mol",
        internal_coordinates=featurizer.internal_coordinates,
        source=str(store.path),
        **extra,
    )


def _features(
    store: OpenMMToolsStore,
    topology: md.Topology,
    featurizer: Featurizer,
    iterations: np.ndarray,
    chunk: int,
    progress: bool,
) -> np.ndarray:
    """(F, R, D) features of every replica at the F stored ``iterations``, ``chunk`` at a time."""
    features = []
    with tqdm(
        total=iterations.size, desc="featurize", unit="iteration", disable=not progress, leave=False
    ) as bar:
        for block in _blocks(iterations, chunk):
            xyz = store.positions(block)
            boxes = store.box_vectors(block)
            frames = to_trajectory(
                xyz.reshape(-1, *xyz.shape[2:]),
                topology,
                None if boxes is None else boxes.reshape(-1, 3, 3),
                np.repeat(block, store.n_replicas),
            )
            features.append(featurizer.transform(frames).reshape(block.size, store.n_replicas, -1))
            bar.update(block.size)
    return np.concatenate(features)


def _frame_order(states: np.ndarray, by: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Order of the flattened (F, R) frames, and the ``replica`` and ``time`` columns by replica.

    Parameters
    ----------
    states
        (F, R) state of each replica at each stored frame.
    by
        ``"replica"``: by replica, then frame (``replica`` and ``time`` returned); ``"state"``:
        by state, then frame, then replica (no columns).
    """
    n_frames, n_replicas = states.shape
    frame, replica = np.meshgrid(np.arange(n_frames), np.arange(n_replicas))
    frame, replica = frame.T, replica.T  # (F, R) like states
    if by == "replica":
        order = np.lexsort((frame.ravel(), replica.ravel()))
        return order, {"replica": replica.ravel()[order], "time": frame.ravel()[order]}
    return np.lexsort((replica.ravel(), frame.ravel(), states.ravel())), {}


def _blocks(iterations: np.ndarray, size: int) -> Iterator[np.ndarray]:
    """Consecutive runs of ``size`` iterations (the last may be shorter)."""
    for start in range(0, iterations.size, max(1, size)):
        yield iterations[start : start + size]
