"""Checks of generation requests shared by every model (one-line ``InputError``s)."""

from __future__ import annotations

import numpy as np

from ..errors import InputError

__all__ = ["check_sample_request"]


def check_sample_request(temperatures: float | list[float] | np.ndarray, n: int) -> np.ndarray:
    """(K,) temperatures to generate at, checked positive and finite, with ``n`` >= 1 frames each."""
    temps = np.atleast_1d(np.asarray(temperatures, dtype=float))
    if temps.ndim != 1 or not np.all(np.isfinite(temps)) or np.any(temps <= 0):
        raise InputError(
            "sample", "temperatures", f"must be positive and finite, got {temps.tolist()}"
        )
    if n <= 0:
        raise InputError(
            "sample", "n", f"must be a positive number of frames per temperature, got {n}"
        )
    return temps
