"""Figures and the HTML report built from analysis results."""

from __future__ import annotations

from .figures import METHOD_STYLE, plot_free_energy, plot_populations_vs_temperature, save_figure
from .html import write_report

__all__ = [
    "METHOD_STYLE",
    "plot_free_energy",
    "plot_populations_vs_temperature",
    "save_figure",
    "write_report",
]
