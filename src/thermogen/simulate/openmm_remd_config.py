"""Settings of a molecular replica-exchange run: ladder, length, exchange interval, platform.

Units: K, ns, ps. The Langevin time step and collision rate come with the molecule
(:class:`~thermogen.systems.molecules.MolecularSystem`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import UsageError

__all__ = ["DEFAULT_LADDER", "OpenMMREMDConfig"]

DEFAULT_LADDER = "300:600:8"
"""Default ladder for molecules: 8 temperatures from 300 K to 600 K, geometric."""


@dataclass(frozen=True)
class OpenMMREMDConfig:
    """Settings of a molecular replica-exchange run (Langevin settings come with the molecule).

    Attributes
    ----------
    temperatures
        Ladder of K >= 2 temperatures in K (ascending).
    ns
        Simulated time per replica, ns (default 5).
    exchange_ps
        Dynamics between swap attempts, ps (one iteration; default 1 ps = 500 steps of 2 fs).
        Must be a whole number of time steps.
    platform
        ``"auto"`` (time every OpenMM platform on a few steps and take the fastest) or a
        platform name: ``"Reference"``, ``"CPU"``, ``"CUDA"``, ``"OpenCL"``.
    seed
        Seed of the starting velocities, the Langevin noise and the swap draws.
    minimize
        Minimize the starting structure once before a new run.
    features
        Features of the dataset written (``thermogen featurize --features``, e.g. ``internal``
        for every internal coordinate, the System's constrained bonds held at their lengths);
        None for the backbone dihedrals phi, psi.
    """

    temperatures: tuple[float, ...]
    ns: float = 5.0
    exchange_ps: float = 1.0
    platform: str = "auto"
    seed: int = 0
    minimize: bool = True
    features: str | None = None

    def __post_init__(self) -> None:
        temps = tuple(float(t) for t in self.temperatures)
        if len(temps) < 2:
            raise UsageError(f"replica exchange needs 2 or more temperatures, got {temps}")
        if any(t <= 0 for t in temps) or list(temps) != sorted(set(temps)):
            raise UsageError(f"temperatures must be positive, distinct and ascending, got {temps}")
        object.__setattr__(self, "temperatures", temps)
        if not (self.ns > 0 and math.isfinite(self.ns)):
            raise UsageError(f"ns must be a positive number of nanoseconds, got {self.ns}")
        if not (self.exchange_ps > 0 and math.isfinite(self.exchange_ps)):
            raise UsageError(f"exchange_ps must be > 0, got {self.exchange_ps}")
        if self.n_iterations < 1:
            raise UsageError(
                f"ns = {self.ns} is shorter than one exchange interval ({self.exchange_ps} ps)"
            )

    @property
    def n_iterations(self) -> int:
        """Replica-exchange iterations (swap attempts) that make ``ns`` per replica."""
        return round(self.ns * 1000.0 / self.exchange_ps)

    def steps_per_iteration(self, timestep_ps: float) -> int:
        """Langevin steps per iteration for a time step in ps.

        Raises
        ------
        UsageError
            If ``exchange_ps`` is not a whole number of time steps.
        """
        steps = round(self.exchange_ps / timestep_ps)
        if steps < 1 or abs(steps * timestep_ps - self.exchange_ps) > 1e-6 * self.exchange_ps:
            raise UsageError(
                f"exchange_ps = {self.exchange_ps} is not a whole number of {timestep_ps} ps steps"
            )
        return steps
