"""Plain-text tables and unit names for what the command line prints."""

from __future__ import annotations

import numpy as np

__all__ = ["state_table", "unit_names"]


def unit_names(temperature_unit: str) -> tuple[str, str]:
    """Names of the temperature and enthalpy units for results in ``temperature_unit``."""
    if temperature_unit == "K":
        return "K", "kJ/mol"
    return "reduced units", "reduced energy units"


def state_table(temperatures: np.ndarray, populations: np.ndarray, temperature_unit: str) -> str:
    """State populations (K, S) at K temperatures as an aligned text table."""
    unit = unit_names(temperature_unit)[0]
    header = f"{'T (' + unit + ')':>18}" + "".join(
        f"{f'state {s}':>10}" for s in range(populations.shape[1])
    )
    rows = [
        f"{t:>18.4g}" + "".join(f"{p:>10.4f}" for p in row)
        for t, row in zip(temperatures, populations, strict=True)
    ]
    return "\n".join([header, *rows])
