"""Publication-style matplotlib figures with one colour and marker per method.

Every function draws on a given ``Axes`` so figures can be composed into panels; units appear
in the axis labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.contour import QuadContourSet
from matplotlib.figure import Figure

from ..analysis.melting import VantHoffFit
from ..analysis.populations import PopulationCurve
from ..fileio import atomic_write

__all__ = [
    "METHOD_STYLE",
    "PAPER_RC",
    "draw_free_energy",
    "plot_free_energy",
    "plot_melting_curve",
    "plot_populations_vs_temperature",
    "save_figure",
    "temperature_axis_label",
    "unit_text",
]


class _MethodStyles(dict):
    """Styles by method; a method without its own (a newly registered model kind) gets a grey
    style labelled with its name."""

    def __missing__(self, method: str) -> dict[str, object]:
        return {"color": "#666666", "linestyle": "none", "marker": "v", "label": method}


METHOD_STYLE: dict[str, dict[str, object]] = _MethodStyles(
    {
        "exact": {"color": "black", "linestyle": "-", "marker": None, "label": "exact"},
        "reference": {"color": "black", "linestyle": "-", "marker": None, "label": "reference"},
        "simulation": {
            "color": "#1b9e77",
            "linestyle": "none",
            "marker": "s",
            "label": "REMD (direct)",
        },
        "mbar": {"color": "#d95f02", "linestyle": "none", "marker": "o", "label": "MBAR"},
        "diffusion": {"color": "#7570b3", "linestyle": "none", "marker": "^", "label": "diffusion"},
        "latf": {"color": "#e7298a", "linestyle": "none", "marker": "D", "label": "LaTF"},
    }
)
"""Colour, line and marker of each method, shared by every figure."""

_STATE_LINESTYLES = ("-", "--", ":", "-.")

PAPER_RC: dict[str, object] = {
    "font.size": 11,
    "axes.titlesize": 11,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.dpi": 100,
}
"""Matplotlib settings of the report's figures: fonts readable at the width the HTML shows
them (about 5-14 inches of figure in a 1100-pixel column)."""


def plot_populations_vs_temperature(
    ax: Axes,
    basin_names: Sequence[str],
    curves: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]],
    temperature_label: str,
    simulated_temperatures: Sequence[float] = (),
    as_lines: Sequence[str] = (),
) -> None:
    """Populations of every state versus temperature, one colour per method.

    Parameters
    ----------
    basin_names
        S state names.
    curves
        ``method -> (temperature (K,), population (K, S), std_error (K, S) or None)``;
        ``method`` is a key of :data:`METHOD_STYLE`. Methods with a line style are drawn as
        lines, the others as points with one-sigma error bars.
    temperature_label
        x-axis label with units, e.g. ``"temperature k_B T (reduced units)"``.
    simulated_temperatures
        Marked by faint vertical lines (the training or simulation ladder).
    as_lines
        Methods drawn as lines although their style has a marker (dense curves of a model).
    """
    for t in simulated_temperatures:
        ax.axvline(t, color="0.85", lw=0.8, zorder=0)
    for method, (temps, pops, errs) in curves.items():
        style = METHOD_STYLE[method]
        for s in range(len(basin_names)):
            label = str(style["label"]) if s == 0 else None
            if style["marker"] is None or method in as_lines:
                ax.plot(
                    temps,
                    pops[:, s],
                    color=style["color"],
                    ls=_STATE_LINESTYLES[s % 4],
                    lw=1.5,
                    label=label,
                )
            else:
                ax.errorbar(
                    temps,
                    pops[:, s],
                    yerr=None if errs is None else errs[:, s],
                    color=style["color"],
                    marker=style["marker"],
                    ls="none",
                    ms=5,
                    capsize=2,
                    label=label,
                )
    for s, name in enumerate(basin_names):
        ax.plot([], [], color="0.4", ls=_STATE_LINESTYLES[s % 4], label=f"state {name}")
    if "exact" in curves or "reference" in curves:
        temps, pops, _ = curves.get("exact", curves.get("reference"))
        for s, name in enumerate(basin_names):
            ax.annotate(
                name,
                (temps[-1], pops[-1, s]),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=9,
            )
    ax.set_xlabel(temperature_label)
    ax.set_ylabel("population")
    ax.set_ylim(0, 1)
    ax.legend(frameon=False, fontsize=8)


def plot_free_energy(
    ax: Axes,
    x_edges: np.ndarray,
    y_edges: np.ndarray,
    probability: np.ndarray,
    temperature: float,
    title: str,
    axis_labels: tuple[str, str] = ("x", "y"),
    vmax: float = 10.0,
    energy_label: str = "free energy (reduced units)",
) -> None:
    """A free-energy map F = -k_B T ln p (zero at its minimum) from a 2D histogram ``probability[ix, iy]``.

    Bins that are empty or above ``vmax`` are left white, so panels with different sample sizes
    compare on one colour scale. ``temperature`` is k_B T in the energy unit (reduced units).
    """
    image = draw_free_energy(ax, x_edges, y_edges, probability, temperature, vmax)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(axis_labels[0])
    ax.set_ylabel(axis_labels[1])
    ax.figure.colorbar(image, ax=ax, label=energy_label, shrink=0.85)


def draw_free_energy(
    ax: Axes,
    x_edges: np.ndarray,
    y_edges: np.ndarray,
    probability: np.ndarray,
    thermal_energy: float,
    vmax: float,
) -> QuadContourSet:
    """Filled contours of F = -kT ln p (zero at its minimum) of a 2D histogram ``probability[ix, iy]``.

    ``thermal_energy`` is k_B T in the unit of F (e.g. kJ/mol). Contours are drawn at bin centres
    every :func:`contour_step` (about k_B T, a round number); empty bins and F > ``vmax`` are
    left white. Returns the contour set, for a colour bar.
    """
    with np.errstate(divide="ignore"):
        free = -thermal_energy * np.log(probability)
    free -= free[np.isfinite(free)].min()
    free[free > vmax] = np.inf
    step = contour_step(thermal_energy, vmax)
    levels = np.arange(0.0, vmax + 1e-9 * step, step)
    centres_x = 0.5 * (x_edges[1:] + x_edges[:-1])
    centres_y = 0.5 * (y_edges[1:] + y_edges[:-1])
    masked = np.ma.masked_invalid(free).T
    filled = ax.contourf(centres_x, centres_y, masked, levels=levels, cmap="viridis")
    ax.contour(centres_x, centres_y, masked, levels=levels, colors="k", linewidths=0.3, alpha=0.5)
    return filled


def contour_step(thermal_energy: float, vmax: float) -> float:
    """A round spacing of free-energy contours near k_B T, with at most 12 contours below ``vmax``.

    Examples
    --------
    >>> contour_step(1.26, 10.08), contour_step(2.494, 19.95), contour_step(0.8, 6.4)
    (1.0, 2.0, 1.0)
    """
    target = max(thermal_energy, vmax / 12)
    decade = 10.0 ** np.floor(np.log10(target))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if factor * decade >= 0.75 * target:
            return float(factor * decade)
    return float(10.0 * decade)


def unit_text(unit: str) -> str:
    """A unit as written after a number or in an axis label: ``"reduced"`` reads ``"reduced units"``."""
    return "reduced units" if unit == "reduced" else unit


def temperature_axis_label(temperature_unit: str) -> str:
    """x-axis label of a temperature: ``"T (K)"`` or ``"T (reduced units)"``."""
    return "T (K)" if temperature_unit == "K" else "T (reduced units)"


def plot_melting_curve(
    curve: PopulationCurve,
    state: int,
    fit: VantHoffFit | None = None,
    exact: tuple[np.ndarray, np.ndarray] | None = None,
    *,
    method: str = "latf",
    ax: Axes | None = None,
) -> Figure:
    """The melting curve of one state: its population versus temperature with the interval band.

    Parameters
    ----------
    curve
        Populations (K, S) and intervals at K temperatures.
    state
        Which state to draw (0..S-1).
    fit
        Van 't Hoff fit of that state (e.g. ``curve.van_t_hoff(state)``): drawn as a dashed
        line, with Tm marked at population 0.5 and its interval as a horizontal error bar.
    exact
        Reference curve ``(temperatures (M,), populations (M,))`` of the same state, drawn in
        the ``"exact"`` style of :data:`METHOD_STYLE`.
    method
        Key of :data:`METHOD_STYLE` giving the colour and marker of the curve.
    ax
        Axes to draw on; a new figure is made when ``None``.

    Returns
    -------
    Figure
        The figure holding ``ax`` (save it with :func:`save_figure`).
    """
    state = curve.check_state(state)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.0, 3.6))
    style = METHOD_STYLE[method]
    t = curve.temperature
    ax.fill_between(
        t,
        curve.low[:, state],
        curve.high[:, state],
        color=style["color"],
        alpha=0.2,
        lw=0,
        label=f"{curve.confidence:.0%} interval",
    )
    ax.plot(
        t,
        curve.population[:, state],
        color=style["color"],
        marker=style["marker"],
        ms=3,
        lw=1.2,
        label=str(style["label"]),
    )
    if exact is not None:
        exact_style = METHOD_STYLE["exact"]
        ax.plot(
            *exact,
            color=exact_style["color"],
            ls=exact_style["linestyle"],
            lw=1.2,
            label=str(exact_style["label"]),
        )
    if fit is not None:
        dense = np.geomspace(t[0], t[-1], 200)
        low, high = fit.tm_interval
        ax.plot(dense, fit.predict(dense), color="0.3", ls="--", lw=1.0, label="van 't Hoff fit")
        ax.errorbar(
            [fit.tm],
            [0.5],
            xerr=[[max(fit.tm - low, 0.0)], [max(high - fit.tm, 0.0)]],
            color="0.1",
            marker="o",
            ms=4,
            capsize=3,
            ls="none",
            label=f"Tm = {fit.tm:.4g} [{low:.4g}, {high:.4g}]",
        )
    ax.set_xlabel(temperature_axis_label(curve.temperature_unit))
    ax.set_ylabel(f"population of state {state}")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(frameon=False, fontsize=8)
    return ax.figure


def save_figure(fig: Figure, path: str | Path, dpi: int = 150) -> Path:
    """Save ``fig`` as PNG atomically and close it."""
    path = Path(path)
    with atomic_write(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
    plt.close(fig)
    return path
