"""Replica-exchange simulation of the built-in systems."""

from __future__ import annotations

from .ladder import geometric_ladder, parse_temperatures
from .langevin import LangevinState, baoab_step
from .remd import REMDConfig, REMDResult, run_remd

__all__ = [
    "LangevinState",
    "REMDConfig",
    "REMDResult",
    "baoab_step",
    "geometric_ladder",
    "parse_temperatures",
    "run_remd",
]
