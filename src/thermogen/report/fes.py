"""Rows of free-energy maps on one colour scale and the axis conventions of the report."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes

from ..analysis.histograms import histogram
from .figures import METHOD_STYLE, draw_free_energy, unit_text
from .page import Page

__all__ = [
    "BINS_1D",
    "BINS_2D",
    "FES_CEILING_KT",
    "Panel",
    "axis_label",
    "edges",
    "fes_row",
    "set_angle_ticks",
    "view_limits",
]

BINS_2D = 40
"""Bins per axis of the 2D histograms (maps and JS divergences)."""
BINS_1D = 50
"""Bins of the 1D marginals."""
FES_CEILING_KT = 8.0
"""Free energies above this many k_B T are left white."""
_ANGLE_TICKS = (-np.pi, -np.pi / 2, 0.0, np.pi / 2, np.pi)
_ANGLE_LABELS = ("-π", "-π/2", "0", "π/2", "π")

Panel = tuple[str, np.ndarray, np.ndarray | None]
"""One map: (title, samples (N, D), weights (N,) or None)."""


def axis_label(name: str, periodic: bool, energy_unit: str) -> str:
    """Axis label of a feature: ``(rad)`` for angles, ``(reduced units)`` for the coordinates of
    analytic systems (``energy_unit == "reduced"``); molecular features keep their name, which
    says what they are (``rg:...`` in nm, ``phi:ALA2`` in rad). A name that already states its
    unit in parentheses is kept."""
    if name.endswith(")"):
        return name
    if periodic:
        return f"{name} (rad)"
    return f"{name} (reduced units)" if energy_unit == "reduced" else name


def edges(limits: tuple[float, float], periodic: bool, bins: int) -> np.ndarray:
    """Bin edges over ``limits`` (over -pi..pi for an angle)."""
    low, high = (-np.pi, np.pi) if periodic else limits
    return np.linspace(low, high, bins + 1)


def set_angle_ticks(ax: Axes, periodic_x: bool, periodic_y: bool = False) -> None:
    """Ticks at multiples of pi/2 on the periodic axes of ``ax``."""
    for set_ticks, set_labels, is_angle in (
        (ax.set_xticks, ax.set_xticklabels, periodic_x),
        (ax.set_yticks, ax.set_yticklabels, periodic_y),
    ):
        if is_angle:
            set_ticks(_ANGLE_TICKS)
            set_labels(_ANGLE_LABELS)


def fes_row(
    page: Page,
    panels: Sequence[Panel],
    ranges: list[tuple[float, float]],
    periodic: np.ndarray,
    names: Sequence[str],
    kt: float | Sequence[float],
    energy_unit: str,
    name: str,
    caption: str,
    methods: Sequence[str] | None = None,
) -> str:
    """Free-energy maps F = -kT ln p of the first two features, side by side, same axes.

    Parameters
    ----------
    panels
        One ``(title, samples, weights)`` per map.
    ranges, periodic, names
        Histogram range, periodicity and name of each feature.
    kt
        k_B T in ``energy_unit``: one for all panels (one shared colour bar) or one per panel
        (one colour bar each).
    energy_unit
        Unit of the free energies on the colour bar.
    name, caption
        PNG file stem and caption.
    methods
        Key of :data:`~thermogen.report.figures.METHOD_STYLE` of each panel: its title takes
        the method's colour, as in every other figure.
    """
    import matplotlib.pyplot as plt

    kts = np.broadcast_to(np.asarray(kt, dtype=float), (len(panels),))
    shared = bool(np.all(kts == kts[0]))
    fig, axes = plt.subplots(
        1,
        len(panels),
        figsize=(3.7 * len(panels) + (0.9 if shared else 0.6 * len(panels)), 3.5),
        squeeze=False,
        sharex=True,
        sharey=True,
        constrained_layout=True,
    )
    # the maps are histogrammed over the view (where 99.6% of each panel's weight lies), so the
    # bins resolve what is shown; divergences elsewhere keep the full ranges
    view = [_panel_view(panels, k, ranges[k], bool(periodic[k])) for k in (0, 1)]
    x_edges = edges(view[0], bool(periodic[0]), BINS_2D)
    y_edges = edges(view[1], bool(periodic[1]), BINS_2D)
    label = f"free energy F ({unit_text(energy_unit)})"
    image = None
    for i, (ax, (title, samples, weights), kt_i) in enumerate(
        zip(axes[0], panels, kts, strict=True)
    ):
        prob = histogram(samples[:, :2], BINS_2D, view, periodic[:2], weights=weights)
        image = draw_free_energy(
            ax, x_edges, y_edges, prob, float(kt_i), FES_CEILING_KT * float(kt_i)
        )
        color = METHOD_STYLE[methods[i]]["color"] if methods is not None else "black"
        ax.set_title(title, color=str(color))
        ax.set_xlabel(axis_label(names[0], bool(periodic[0]), energy_unit))
        if i == 0:
            ax.set_ylabel(axis_label(names[1], bool(periodic[1]), energy_unit))
        set_angle_ticks(ax, bool(periodic[0]), bool(periodic[1]))
        if not shared:
            fig.colorbar(image, ax=ax, label=label, shrink=0.9)
    if shared and image is not None:
        fig.colorbar(image, ax=list(axes[0]), label=label, shrink=0.9)
    return page.figure(fig, name, caption)


def view_limits(
    values: np.ndarray, limits: tuple[float, float], weights: np.ndarray | None = None
) -> tuple[float, float]:
    """Axis limits around where ``values`` lie (0.2-99.8 weighted percentiles, 8% margin), within
    ``limits``.

    Histograms for divergences keep their full ranges (they count every sample); only the view
    drops the empty margin that a few stray samples would otherwise force on every panel.
    """
    order = np.argsort(values)
    w = np.ones(values.size) if weights is None else np.asarray(weights, dtype=float)
    cumulative = np.cumsum(w[order])
    low, high = np.interp([0.002, 0.998], cumulative / cumulative[-1], values[order])
    if not high > low:
        return limits
    pad = 0.08 * (high - low)
    return max(limits[0], float(low - pad)), min(limits[1], float(high + pad))


def _panel_view(
    panels: Sequence[Panel], axis: int, limits: tuple[float, float], periodic: bool
) -> tuple[float, float]:
    """The shared view of one axis: the union of every panel's weighted view (all of -pi..pi for
    an angle)."""
    if periodic:
        return -np.pi, np.pi
    views = np.array([view_limits(x[:, axis], limits, w) for _, x, w in panels])
    return float(views[:, 0].min()), float(views[:, 1].max())
