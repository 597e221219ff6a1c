"""Warnings for data that are legal but suspicious: each names the file and the field and says
what to check (:class:`~thermogen.errors.InputWarning`)."""

from __future__ import annotations

import numpy as np

from ..errors import warn_input
from .dataset import MultiTempDataset

__all__ = ["CELSIUS_LIKE_KELVIN", "warn_if_suspicious"]

CELSIUS_LIKE_KELVIN = 150.0
"""Kelvin: molecular data whose temperatures are all below this look like Celsius or reduced
units given as K (the coldest usual REMD replica is above 250 K)."""


def warn_if_suspicious(dataset: MultiTempDataset) -> MultiTempDataset:
    """Warn about Celsius-looking Kelvin, time not increasing within a replica and repeated
    frames; returns ``dataset`` unchanged."""
    _warn_celsius_like(dataset)
    _warn_time_order(dataset)
    _warn_repeated_frames(dataset)
    return dataset


def _warn_celsius_like(dataset: MultiTempDataset) -> None:
    hottest = float(dataset.temperature.max())
    if dataset.temperature_unit == "K" and hottest < CELSIUS_LIKE_KELVIN:
        warn_input(
            dataset.source,
            "temperature",
            f"every temperature is below {CELSIUS_LIKE_KELVIN:g} K (the hottest is {hottest:g} "
            "K): if they are Celsius, add 273.15; if they are reduced units (k_B = 1), say "
            "temperature_unit 'reduced' (--temperature-unit reduced for CSV)",
        )


def _warn_time_order(dataset: MultiTempDataset) -> None:
    replica = first_time_reversal(dataset)
    if replica is not None:
        warn_input(
            dataset.source,
            "time",
            f"runs backwards inside replica {replica} (in file order): check that the "
            "trajectory pieces were joined in order; SPIB and LaTF refuse such data",
        )


def first_time_reversal(dataset: MultiTempDataset) -> int | None:
    """The first replica id whose ``time`` decreases somewhere in file order (None if none)."""
    if dataset.replica is None or dataset.time is None:
        return None
    order = np.argsort(dataset.replica, kind="stable")
    replica, time = dataset.replica[order], dataset.time[order]
    backwards = (np.diff(time) < 0) & (replica[1:] == replica[:-1])
    return int(replica[1:][backwards][0]) if backwards.any() else None


def _warn_repeated_frames(dataset: MultiTempDataset) -> None:
    """Warn about frames repeated exactly, judged on the continuous features (more distinct
    values than half the frames, among the first 10,000): discrete ones (contacts) repeat by
    nature."""
    head = dataset.features[:10_000]
    continuous = np.array([np.unique(column).size > head.shape[0] // 2 for column in head.T])
    if not continuous.any():
        return
    rows = np.column_stack([dataset.features[:, continuous], dataset.temperature])
    repeats = repeated_rows(rows)
    if repeats.size:
        warn_input(
            dataset.source,
            "features",
            f"{repeats.size} frames repeat an earlier frame exactly (features and temperature; "
            f"e.g. frame {repeats[0]}): check that no file or trajectory piece was read twice",
        )


def repeated_rows(rows: np.ndarray) -> np.ndarray:
    """Indices of the rows (N, D) equal to an earlier row, ascending.

    Rows are sorted by a random projection (equal rows project equally), and neighbours with
    equal projections are compared exactly: O(N log N) without sorting whole rows.
    """
    key = rows @ np.random.default_rng(0).normal(size=rows.shape[1])
    order = np.argsort(key, kind="stable")
    candidate = np.flatnonzero(key[order][1:] == key[order][:-1])
    same = np.all(rows[order[candidate]] == rows[order[candidate + 1]], axis=1)
    pairs = np.column_stack([order[candidate], order[candidate + 1]])[same]
    return np.unique(pairs.max(axis=1)) if pairs.size else np.array([], dtype=int)
