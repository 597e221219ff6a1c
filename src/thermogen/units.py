"""Units and Boltzmann's constant.

Molecular data use Kelvin and kJ/mol (k_B = 0.0083144626 kJ/(mol K)); analytic systems use
reduced units where k_B = 1 and temperature is an energy.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "ENERGY_UNITS",
    "KB_KJ_PER_MOL_K",
    "KCAL_TO_KJ",
    "TEMPERATURE_UNITS",
    "boltzmann_constant",
    "thermal_energy",
]

KB_KJ_PER_MOL_K = 0.0083144626181532
"""Molar gas constant R = N_A k_B in kJ/(mol K)."""

KCAL_TO_KJ = 4.184
TEMPERATURE_UNITS = ("K", "reduced")
ENERGY_UNITS = ("kJ/mol", "kcal/mol", "reduced")


def boltzmann_constant(temperature_unit: str) -> float:
    """k_B in (energy unit)/(temperature unit): R in kJ/(mol K) for Kelvin, 1 for reduced units."""
    if temperature_unit == "K":
        return KB_KJ_PER_MOL_K
    if temperature_unit == "reduced":
        return 1.0
    raise ValueError(
        f"unknown temperature unit {temperature_unit!r}; use one of {TEMPERATURE_UNITS}"
    )


def thermal_energy(temperature: np.ndarray | float, temperature_unit: str) -> np.ndarray:
    """k_B T in kJ/mol (Kelvin) or reduced energy units, same shape as ``temperature``."""
    return boltzmann_constant(temperature_unit) * np.asarray(temperature, dtype=float)
