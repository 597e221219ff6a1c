"""Alanine dipeptide (vacuum) benchmark pieces: temperatures, conformational states, histograms.

Shared by ``make_adp_reference.py`` (the long dense-ladder reference) and ``adp_transfer.py``.
Angles are in radians; temperatures in K.
"""

from __future__ import annotations

import numpy as np

from thermogen.analysis import histogram

TRAINING_LADDER = (350.0, 450.0, 580.0)
"""The sparse ladder the models are trained on (K)."""
INSIDE = (400.0, 510.0)
"""Held-out temperatures inside the training ladder (K)."""
BELOW = (300.0,)
"""Held-out temperature 14% below the ladder (K)."""
TARGETS = (*BELOW, *INSIDE)
REFERENCE_LADDER = (300.0, 325.0, 350.0, 375.0, 400.0, 430.0, 465.0, 510.0, 545.0, 580.0)
"""The dense ladder of the reference runs; it contains every target temperature."""
BINS = 36
"""Histogram bins per angle (10 degrees)."""
STATES = ("C7eq/beta", "alphaR", "C7ax/alphaL")
"""phi > 0 is C7ax/alphaL; with phi <= 0, -125 deg < psi < 50 deg is alphaR, the rest C7eq/beta."""
_ALPHA_R_PSI = (np.deg2rad(-125.0), np.deg2rad(50.0))


def phi_psi_histogram(angles: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """(BINS, BINS) periodic probability histogram of (N, 2) phi/psi angles in radians."""
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
