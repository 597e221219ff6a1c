"""The data overview: frames per temperature, energy histograms, and how the ladder connects."""

from __future__ import annotations

import html
from typing import Any

import numpy as np

from ..data.dataset import MultiTempDataset
from .exchange import LadderExchange
from .figures import unit_text
from .page import Page
from .thresholds import OVERLAP_WARNING

__all__ = ["data_section"]


def data_section(page: Page, ds: MultiTempDataset, exchange: LadderExchange) -> None:
    """Frames per temperature, energy histograms and the exchange statistics of the ladder."""
    import matplotlib.pyplot as plt

    header = [f"temperature ({ds.temperature_unit})", "frames"]
    if ds.has_energy:
        header += [f"mean energy ({ds.energy_unit})", f"energy std ({ds.energy_unit})"]
    rows = []
    for t in ds.temperatures:
        here = ds.temperature == t
        row: list[Any] = [t, int(here.sum())]
        if ds.has_energy:
            row += [ds.energy[here].mean(), ds.energy[here].std()]
        rows.append(row)
    parts = [
        f"<p>{ds.n_frames} frames of {ds.n_features} features "
        f"({html.escape(', '.join(ds.feature_names))}) from <code>{html.escape(ds.source)}</code>."
        "</p>",
        page.table("frames_per_temperature", header, rows),
    ]
    if ds.has_energy:
        fig, ax = plt.subplots(figsize=(5.5, 3.4), constrained_layout=True)
        colors = plt.get_cmap("coolwarm")(np.linspace(0, 1, len(ds.temperatures)))
        bins = np.histogram_bin_edges(ds.energy, bins=60)
        for t, color in zip(ds.temperatures, colors, strict=True):
            ax.hist(
                ds.energy[ds.temperature == t],
                bins=bins,
                density=True,
                histtype="step",
                color=color,
                lw=1.3,
                label=f"T = {t:.4g} {unit_text(ds.temperature_unit)}",
            )
        ax.set_xlabel(f"potential energy U ({unit_text(ds.energy_unit)})")
        ax.set_ylabel(f"probability density ({_per(ds.energy_unit)})")
        ax.legend(frameon=False, ncol=1 + len(ds.temperatures) // 7)
        parts.append(
            page.figure(
                fig,
                "energy_histograms",
                "Potential-energy distributions at each temperature; neighbouring "
                "temperatures must overlap for MBAR and replica swaps to connect them.",
            )
        )
    else:
        parts.append("<p>The data carry no energies: MBAR and C<sub>v</sub> are left out.</p>")
    parts.append(_exchange_html(page, exchange, ds.temperature_unit))
    page.section("Data overview", *parts)


def _exchange_html(page: Page, ex: LadderExchange, unit: str) -> str:
    """Table of neighbour-pair overlap and swap acceptance, the round trips, and warnings."""
    if ex.temperatures.size < 2:
        return "<p>One temperature: no ladder to connect.</p>"
    swaps = ex.swap_acceptance
    rows = [
        [
            f"{ex.temperatures[k]:.4g} - {ex.temperatures[k + 1]:.4g}",
            ex.energy_overlap[k],
            ex.mbar_overlap[k],
            "not known" if swaps is None else _acceptance_cell(swaps[k]),
        ]
        for k in range(ex.temperatures.size - 1)
    ]
    header = [
        f"neighbouring temperatures ({unit})",
        "energy histogram overlap (0-1)",
        "MBAR overlap O[k,k+1]",
        "swap acceptance (fraction)",
    ]
    for k in np.flatnonzero(ex.energy_overlap < OVERLAP_WARNING):
        page.warnings.append(
            f"The energy distributions at {ex.temperatures[k]:.4g} and "
            f"{ex.temperatures[k + 1]:.4g} {unit_text(unit)} barely overlap (overlap coefficient "
            f"{ex.energy_overlap[k]:.3f}): MBAR between them, and at temperatures in between, "
            "is not reliable; add a temperature in the gap."
        )
    trips = "not known" if ex.round_trips is None else str(ex.round_trips)
    page.key("ladder", _ladder_summary(ex, trips))
    return (
        "<p>How well neighbouring temperatures connect. Energy overlap: the overlap coefficient "
        "&Sigma; min(p, q) of the two potential-energy histograms (1 identical, 0 disjoint). "
        "MBAR overlap: the off-diagonal element of MBAR's overlap matrix (about 0.5 for "
        "identical states with equal frames, 0 for disconnected ones; n/a without MBAR). Swap "
        "acceptance: from the simulation record (<code>&lt;data&gt;.run.json</code>) when "
        "there is one.</p>"
        + page.table("ladder_overlap", header, rows)
        + f"<p>Replica round trips (lowest &rarr; highest &rarr; lowest temperature): "
        f"<b>{html.escape(trips)}</b>"
        + (f", from {html.escape(ex.round_trips_source)}" if ex.round_trips is not None else "")
        + (f" ({html.escape(ex.round_trips_source)})" if ex.round_trips is None else "")
        + ".</p>"
    )


def _per(unit: str) -> str:
    """The unit of a density over energies: ``1/(kJ/mol)``, or ``1/reduced energy``."""
    return (
        "1/reduced energy" if unit == "reduced" else f"1/({unit})" if "/" in unit else f"1/{unit}"
    )


def _acceptance_cell(acceptance: float) -> float | str:
    """A pair's swap acceptance for the table; NaN means the record says none was attempted."""
    return "no swaps attempted" if np.isnan(acceptance) else acceptance


def _ladder_summary(ex: LadderExchange, trips: str) -> str:
    """One line: range of neighbour energy overlaps, of swap acceptance, and the round trips."""

    def span(values: np.ndarray, fmt: str) -> str:
        ok = values[np.isfinite(values)]
        if not ok.size:
            return "not known"
        low, high = format(ok.min(), fmt), format(ok.max(), fmt)
        return low if low == high else f"{low}-{high}"

    if ex.swap_acceptance is None:
        swaps = "swap acceptance not known"
    elif np.isnan(ex.swap_acceptance).all():
        swaps = "no swaps attempted"
    else:
        swaps = f"swap acceptance {span(100 * ex.swap_acceptance, '.0f')}%"
    return (
        f"neighbour energy overlap {span(ex.energy_overlap, '.2f')}, {swaps}, "
        f"replica round trips {trips}"
    )
