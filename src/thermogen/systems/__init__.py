"""Systems the simulators can run: analytic 2D potentials with exact references, LJ7, and
molecules for OpenMM (built-in alanine dipeptide, or a user's structure and force field)."""

from __future__ import annotations

from ..errors import UnknownNameError
from .base import AnalyticSystem, GridReference, SimulationSystem
from .lj7 import LJ7
from .many_well import ManyWell32
from .molecules import (
    MOLECULES,
    MolecularSystem,
    MoleculeConfig,
    build_molecule,
    get_molecule,
    load_molecule_config,
)
from .potentials import DoubleWell, MuellerBrown, ThreeHole, TwoStateFolding

__all__ = [
    "LJ7",
    "MOLECULES",
    "SYSTEMS",
    "AnalyticSystem",
    "DoubleWell",
    "GridReference",
    "ManyWell32",
    "MolecularSystem",
    "MoleculeConfig",
    "MuellerBrown",
    "SimulationSystem",
    "ThreeHole",
    "TwoStateFolding",
    "build_molecule",
    "get_molecule",
    "get_system",
    "load_molecule_config",
]

SYSTEMS: dict[str, type[SimulationSystem]] = {
    cls.name: cls for cls in (MuellerBrown, DoubleWell, ThreeHole, TwoStateFolding, LJ7, ManyWell32)
}
"""Built-in systems by name."""


def get_system(name: str) -> SimulationSystem:
    """A built-in system by name (see :data:`SYSTEMS`).

    Raises
    ------
    UnknownNameError
        (a ``KeyError``) if ``name`` is unknown; the message lists the known names of both kinds (molecules
        are built by :func:`get_molecule`).
    """
    try:
        return SYSTEMS[name]()
    except KeyError:
        raise UnknownNameError(
            f"unknown system {name!r}; choose one of {', '.join(SYSTEMS)} (analytic), "
            f"{', '.join(MOLECULES)} (molecules, OpenMM) or a molecule settings file (.yaml)"
        ) from None
