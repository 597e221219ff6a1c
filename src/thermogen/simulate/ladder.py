"""Temperature ladders for replica exchange."""

from __future__ import annotations

import numpy as np

from ..errors import UsageError

__all__ = ["geometric_ladder", "parse_temperatures"]


def geometric_ladder(t_min: float, t_max: float, n: int) -> np.ndarray:
    """``n`` temperatures spaced geometrically from ``t_min`` to ``t_max`` (inclusive).

    Geometric spacing gives roughly uniform swap acceptance when the heat capacity is constant.

    Examples
    --------
    >>> geometric_ladder(300.0, 600.0, 3).round(2).tolist()
    [300.0, 424.26, 600.0]
    """
    if not 0 < t_min < t_max:
        raise UsageError(f"need 0 < t_min < t_max, got t_min={t_min}, t_max={t_max}")
    if n < 2:
        raise UsageError(f"a ladder needs at least 2 temperatures, got n={n}")
    return np.geomspace(t_min, t_max, n)


def parse_temperatures(text: str) -> np.ndarray:
    """Parse ``"T1,T2,..."`` or a geometric ladder ``"TMIN:TMAX:N"`` into ascending temperatures.

    Raises
    ------
    UsageError
        (a ``ValueError``) if the text is not a list of positive numbers or a valid ``TMIN:TMAX:N`` triple.
    """
    text = text.strip()
    try:
        if ":" in text:
            t_min, t_max, n = text.split(":")
            temps = geometric_ladder(float(t_min), float(t_max), int(n))
        else:
            temps = np.array([float(t) for t in text.split(",") if t.strip()])
    except ValueError as err:
        raise UsageError(
            f"cannot read temperatures {text!r}: use 'T1,T2,...' or 'TMIN:TMAX:N' ({err})"
        ) from None
    if temps.size == 0 or np.any(temps <= 0):
        raise UsageError(f"temperatures must be positive numbers, got {text!r}")
    if np.unique(temps).size != temps.size:
        raise UsageError(f"temperatures must be distinct, got {text!r}")
    return np.sort(temps)
