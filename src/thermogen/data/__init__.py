"""Multi-temperature datasets: the in-memory type, file I/O, splits and summaries."""

from __future__ import annotations

from .dataset import MultiTempDataset, Trajectories
from .io import load_dataset, save_dataset
from .splits import (
    lagged_pairs,
    split_by_temperature,
    train_validation_indices,
    train_validation_split,
)
from .summary import describe

__all__ = [
    "MultiTempDataset",
    "Trajectories",
    "describe",
    "lagged_pairs",
    "load_dataset",
    "save_dataset",
    "split_by_temperature",
    "train_validation_indices",
    "train_validation_split",
]
