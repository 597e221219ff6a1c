"""Alanine dipeptide on the Ramachandran plane: conformational states, periodic phi/psi
histograms, and the reference ensembles that ship with thermogen.

The states follow the usual vacuum assignment: phi > 0 is C7ax/alphaL; with phi <= 0,
-125 deg < psi < 50 deg is alphaR and the rest is C7eq/beta. Histograms have 36 x 36 bins of
10 degrees on the torus [-pi, pi)^2. Angles are in radians, temperatures in K.

The temperatures of the alanine-dipeptide transfer problem (a sparse training ladder, held-out
targets inside it and below it) are defined here too; ``benchmarks/adp_common.py`` imports them.

:func:`load_adp_reference` reads ``thermogen/systems/data/adp_reference.npz``: at each target
temperature, the phi/psi histogram and state populations of independent dense-ladder
replica-exchange runs, one per seed, made by ``benchmarks/make_adp_reference.py`` (vacuum,
AMBER99SB-ILDN, ladder :data:`REFERENCE_LADDER`), which writes this file directly (so the
reference ships with the package) and its run record to ``benchmarks/reference/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np

from ..errors import InputError
from .divergence import js_divergence
from .histograms import histogram

__all__ = [
    "BELOW",
    "BINS",
    "INSIDE",
    "REFERENCE_LADDER",
    "STATES",
    "TARGETS",
    "TRAINING_LADDER",
    "RamachandranReference",
    "load_adp_reference",
    "phi_psi_histogram",
    "state_of",
    "state_populations",
]

TRAINING_LADDER = (350.0, 450.0, 580.0)
"""The sparse ladder the models are trained on (K)."""
INSIDE = (400.0, 510.0)
"""Held-out temperatures inside the training ladder (K)."""
BELOW = (300.0,)
"""Held-out temperature 14% below the ladder (K)."""
TARGETS = (*BELOW, *INSIDE)
"""Every held-out temperature, ascending (K)."""
REFERENCE_LADDER = (300.0, 325.0, 350.0, 375.0, 400.0, 430.0, 465.0, 510.0, 545.0, 580.0)
"""The dense ladder of the reference runs; it contains every target temperature (K)."""
BINS = 36
"""Histogram bins per angle (10 degrees)."""
STATES = ("C7eq/beta", "alphaR", "C7ax/alphaL")
"""phi > 0 is C7ax/alphaL; with phi <= 0, -125 deg < psi < 50 deg is alphaR, the rest C7eq/beta."""
ALPHA_R_PSI_DEGREES = (-125.0, 50.0)
"""psi range (degrees) of alphaR, for phi <= 0."""
REFERENCE_FILE = Path(__file__).resolve().parent.parent / "systems" / "data" / "adp_reference.npz"
"""The packaged reference ensembles (see :func:`load_adp_reference`)."""
_ALPHA_R_PSI = tuple(np.deg2rad(ALPHA_R_PSI_DEGREES))


def phi_psi_histogram(angles: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """(BINS, BINS) periodic probability histogram of (N, 2) phi/psi angles in radians.

    ``weights`` (N,) are optional non-negative frame weights (e.g. MBAR's); the result sums to 1
    and is indexed ``[phi bin, psi bin]`` from -pi upwards.
    """
    return histogram(angles, BINS, [(-np.pi, np.pi)] * 2, periodic=[True, True], weights=weights)


def state_of(angles: np.ndarray) -> np.ndarray:
    """(N,) state index into :data:`STATES` of (N, 2) phi/psi angles in radians."""
    phi, psi = angles[:, 0], angles[:, 1]
    alpha_r = (phi <= 0) & (psi > _ALPHA_R_PSI[0]) & (psi < _ALPHA_R_PSI[1])
    return np.where(phi > 0, 2, np.where(alpha_r, 1, 0))


def state_populations(angles: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """(3,) populations of :data:`STATES` of (N, 2) phi/psi angles (optionally weighted)."""
    w = np.ones(len(angles)) if weights is None else np.asarray(weights, dtype=float)
    return np.bincount(state_of(angles), weights=w, minlength=len(STATES)) / w.sum()


@dataclass(frozen=True)
class RamachandranReference:
    """Reference phi/psi ensembles of alanine dipeptide (vacuum) at a few temperatures.

    Attributes
    ----------
    temperatures
        (L,) temperatures in K.
    histograms
        (R, L, BINS, BINS) phi/psi probability histograms of R independent runs.
    populations
        (R, L, 3) populations of :data:`STATES` of each run.
    seeds
        (R,) seeds of the runs.
    ladder
        Temperatures (K) of the replica-exchange ladder the runs used.
    ns_per_replica
        Simulated ns per replica and run.
    source
        How the file was made (script and date).
    """

    temperatures: np.ndarray
    histograms: np.ndarray
    populations: np.ndarray
    seeds: np.ndarray
    ladder: tuple[float, ...]
    ns_per_replica: float
    source: str

    @property
    def n_runs(self) -> int:
        """Independent runs (seeds) behind the reference."""
        return len(self.seeds)

    @property
    def mean_histograms(self) -> np.ndarray:
        """(L, BINS, BINS) histogram averaged over the runs (sums to 1 per temperature)."""
        return self.histograms.mean(axis=0)

    @property
    def mean_populations(self) -> np.ndarray:
        """(L, 3) populations averaged over the runs."""
        return self.populations.mean(axis=0)

    @property
    def std_error(self) -> np.ndarray:
        """(L, 3) standard error of the mean populations over the runs (nan with one run)."""
        if self.n_runs < 2:
            return np.full(self.populations.shape[1:], np.nan)
        return self.populations.std(axis=0, ddof=1) / np.sqrt(self.n_runs)

    def index(self, temperature: float) -> int:
        """Position of ``temperature`` (K) in :attr:`temperatures`.

        Raises
        ------
        KeyError
            If the reference has no ensemble at that temperature.
        """
        hits = np.flatnonzero(np.isclose(self.temperatures, temperature))
        if hits.size == 0:
            raise KeyError(
                f"no reference at {temperature:g} K; it has "
                f"{', '.join(f'{t:g}' for t in self.temperatures)} K"
            )
        return int(hits[0])

    def js_between_runs(self) -> np.ndarray:
        """(L,) mean JS divergence between the histograms of pairs of runs: the noise floor of
        one run (nan with one run)."""
        pairs = list(combinations(range(self.n_runs), 2))
        if not pairs:
            return np.full(len(self.temperatures), np.nan)
        return np.array(
            [
                np.mean(
                    [js_divergence(self.histograms[a, i], self.histograms[b, i]) for a, b in pairs]
                )
                for i in range(len(self.temperatures))
            ]
        )


def load_adp_reference(path: str | Path = REFERENCE_FILE) -> RamachandranReference:
    """Read reference ensembles (default: the file that ships with thermogen).

    The file is an ``.npz`` with ``temperatures`` (L,), ``histograms`` (R, L, BINS, BINS),
    ``populations`` (R, L, 3), ``seeds`` (R,), ``states``, ``ladder`` (K), ``ns_per_replica``
    and ``source``, as written by the output of ``benchmarks/make_adp_reference.py`` plus its
    settings.

    Raises
    ------
    InputError
        If the file is missing or its arrays do not fit together.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, None, "the alanine-dipeptide reference file does not exist")
    with np.load(path, allow_pickle=False) as data:
        for key in ("temperatures", "histograms", "populations", "seeds"):
            if key not in data:
                raise InputError(path, key, "is missing")
        ref = RamachandranReference(
            temperatures=np.asarray(data["temperatures"], dtype=float),
            histograms=np.asarray(data["histograms"], dtype=float),
            populations=np.asarray(data["populations"], dtype=float),
            seeds=np.asarray(data["seeds"], dtype=int),
            ladder=tuple(float(t) for t in data["ladder"]) if "ladder" in data else (),
            ns_per_replica=float(data["ns_per_replica"]) if "ns_per_replica" in data else np.nan,
            source=str(data["source"]) if "source" in data else "",
        )
        if "states" in data and tuple(str(s) for s in data["states"]) != STATES:
            raise InputError(path, "states", f"are {list(data['states'])}, expected {STATES}")
    n_runs, n_temps = len(ref.seeds), len(ref.temperatures)
    if ref.histograms.shape != (n_runs, n_temps, BINS, BINS):
        raise InputError(
            path,
            "histograms",
            f"has shape {ref.histograms.shape}, expected {(n_runs, n_temps, BINS, BINS)}",
        )
    if ref.populations.shape != (n_runs, n_temps, len(STATES)):
        raise InputError(
            path,
            "populations",
            f"has shape {ref.populations.shape}, expected {(n_runs, n_temps, 3)}",
        )
    return ref
