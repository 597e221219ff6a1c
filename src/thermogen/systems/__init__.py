"""Systems the simulator can run: analytic 2D potentials with exact references and LJ7."""

from __future__ import annotations

from .base import AnalyticSystem, GridReference, SimulationSystem
from .lj7 import LJ7
from .potentials import DoubleWell, MuellerBrown, ThreeHole, TwoStateFolding

__all__ = [
    "LJ7",
    "SYSTEMS",
    "AnalyticSystem",
    "DoubleWell",
    "GridReference",
    "MuellerBrown",
    "SimulationSystem",
    "ThreeHole",
    "TwoStateFolding",
    "get_system",
]

SYSTEMS: dict[str, type[SimulationSystem]] = {
    cls.name: cls for cls in (MuellerBrown, DoubleWell, ThreeHole, TwoStateFolding, LJ7)
}
"""Built-in systems by name."""


def get_system(name: str) -> SimulationSystem:
    """A built-in system by name (see :data:`SYSTEMS`).

    Raises
    ------
    KeyError
        If ``name`` is unknown; the message lists the known names.
    """
    try:
        return SYSTEMS[name]()
    except KeyError:
        raise KeyError(f"unknown system {name!r}; choose one of {', '.join(SYSTEMS)}") from None
