"""Alanine dipeptide (vacuum) benchmark pieces: temperatures, conformational states, histograms.

Shared by ``make_adp_reference.py`` (the long dense-ladder reference) and ``adp_transfer.py``.
The definitions live in :mod:`thermogen.analysis.ramachandran` (the molecular demo uses them
too); this module re-exports them. Angles are in radians; temperatures in K.
"""

from __future__ import annotations

from thermogen.analysis.ramachandran import (
    BELOW,
    BINS,
    INSIDE,
    REFERENCE_LADDER,
    STATES,
    TARGETS,
    TRAINING_LADDER,
    phi_psi_histogram,
    state_of,
    state_populations,
)

__all__ = [
    "BELOW",
    "BINS",
    "INSIDE",
    "REFERENCE_LADDER",
    "STATES",
    "TARGETS",
    "TRAINING_LADDER",
    "phi_psi_histogram",
    "state_of",
    "state_populations",
]
