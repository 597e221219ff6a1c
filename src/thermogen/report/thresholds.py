"""When the report warns: the limits below which a result is flagged as untrustworthy."""

from __future__ import annotations

__all__ = [
    "CONVERGENCE_WARNING",
    "ESS_WARNING",
    "EXTRAPOLATION_WARNING",
    "OVERLAP_WARNING",
    "SUPPORT_WARNING",
]

ESS_WARNING = 100.0
"""MBAR estimates with a Kish effective sample size below this (frames) are flagged."""
EXTRAPOLATION_WARNING = 0.10
"""Target temperatures more than this fraction below the lowest or above the highest trained
temperature are flagged."""
CONVERGENCE_WARNING = 0.03
"""Training is flagged as not converged when the validation loss fell by more than this fraction
over the last 20% of the steps."""
SUPPORT_WARNING = 0.05
"""Generated frames at a trained temperature falling in histogram bins that hold no data frame
are flagged when they are more than this fraction and twice the share that one half of the data
has outside the other half."""
OVERLAP_WARNING = 0.05
"""Neighbouring temperatures whose potential-energy histograms overlap less than this (overlap
coefficient) are flagged: MBAR and swaps barely connect them."""
