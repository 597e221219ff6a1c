"""Analysis metrics: histograms, divergences and their noise floor, populations, melting curves."""

from __future__ import annotations

from thermogen.analysis.divergence import (
    NoiseFloor,
    js_between_samples,
    js_divergence,
    kl_divergence,
    noise_floor,
)
from thermogen.analysis.histograms import histogram, histogram_ranges, wrap_angle
from thermogen.analysis.melting import (
    VantHoffFit,
    fit_van_t_hoff,
    melting_temperature,
    van_t_hoff,
)
from thermogen.analysis.populations import (
    PopulationEstimate,
    bootstrap_populations,
    state_populations,
    statistical_inefficiency,
)

__all__ = [
    "NoiseFloor",
    "PopulationEstimate",
    "VantHoffFit",
    "bootstrap_populations",
    "fit_van_t_hoff",
    "histogram",
    "histogram_ranges",
    "js_between_samples",
    "js_divergence",
    "kl_divergence",
    "melting_temperature",
    "noise_floor",
    "state_populations",
    "statistical_inefficiency",
    "van_t_hoff",
    "wrap_angle",
]
