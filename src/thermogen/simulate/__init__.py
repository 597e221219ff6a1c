"""Replica-exchange simulation: vectorised Langevin REMD of the analytic systems, and
temperature REMD of molecules with OpenMM and openmmtools (resumable from its NetCDF store)."""

from __future__ import annotations

from .ladder import geometric_ladder, parse_temperatures
from .langevin import LangevinState, baoab_step
from .openmm_remd import (
    DEFAULT_LADDER,
    OpenMMREMDConfig,
    OpenMMREMDResult,
    RunInterrupted,
    run_openmm_remd,
)
from .platforms import PlatformChoice, choose_platform
from .remd import REMDConfig, REMDResult, run_remd

__all__ = [
    "DEFAULT_LADDER",
    "LangevinState",
    "OpenMMREMDConfig",
    "OpenMMREMDResult",
    "PlatformChoice",
    "REMDConfig",
    "REMDResult",
    "RunInterrupted",
    "baoab_step",
    "choose_platform",
    "geometric_ladder",
    "parse_temperatures",
    "run_openmm_remd",
    "run_remd",
]
