"""Generated samples against the training data at the trained temperatures: free-energy maps,
1D marginals, JS divergences with their noise floor, and support checks."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..analysis.histograms import histogram, histogram_ranges
from ..data.dataset import MultiTempDataset
from .comparison import Comparison, generated_panel
from .fes import (
    BINS_1D,
    BINS_2D,
    FES_CEILING_KT,
    axis_label,
    edges,
    fes_row,
    set_angle_ticks,
    view_limits,
)
from .figures import METHOD_STYLE, unit_text
from .page import Page
from .thresholds import SUPPORT_WARNING

__all__ = ["trained_section"]

_MAX_MARGINALS = 6
"""At most this many features get 1D marginal panels."""
_BINS_SUPPORT = 20
_METRIC_COLUMNS = (
    "frames compared",
    "JS generated vs data (nats)",
    "noise floor mean (nats)",
    "noise floor std (nats)",
    "JS / floor",
    "generated outside data support (%)",
    "data half outside other half (%)",
)


def trained_section(
    page: Page, generated: MultiTempDataset, ds: MultiTempDataset, seed: int, method: str
) -> None:
    """Generated vs data at every trained temperature: FES, marginals, JS with noise floor.

    ``generated`` holds the samples of the model kind ``method`` at every temperature of ``ds``.
    """
    periodic = np.asarray(ds.periodic, dtype=bool)
    n_samples = int(np.sum(generated.temperature == ds.temperatures[0]))
    compare = Comparison(
        histogram_ranges(ds.features, generated.features, periodic=periodic), periodic
    )
    parts = [
        f"<p>{n_samples} frames generated per temperature against the training data at the same "
        "temperature. Free energies F = -k<sub>B</sub>T ln p of 2D histograms "
        f"({BINS_2D}x{BINS_2D} bins over the region shown) are zero at each map's minimum, with "
        f"contours every k<sub>B</sub>T or so; white regions are empty or above "
        f"{FES_CEILING_KT:g} k<sub>B</sub>T.</p>"
    ]
    if ds.n_features >= 2:
        parts += [
            _trained_map(page, compare, ds, generated, i, method)
            for i in range(len(ds.temperatures))
        ]
    parts.append(_marginals_figure(page, compare, ds, generated, method))
    rows = [
        _js_row(
            compare,
            ds.features[ds.temperature == t],
            generated.features[generated.temperature == t],
            t,
            seed,
        )
        for t in ds.temperatures
    ]
    parts += _metrics_parts(page, rows, ds.temperature_unit)
    _warn(page, rows)
    if len(parts) > 1:
        page.offer_headline(parts[1], 1)
    page.section("Generated vs data at trained temperatures", *parts)


def _trained_map(
    page: Page,
    compare: Comparison,
    ds: MultiTempDataset,
    generated: MultiTempDataset,
    i: int,
    method: str,
) -> str:
    """Data and generated free-energy maps at the ``i``-th trained temperature, one colour scale."""
    t = ds.temperatures[i]
    names = tuple(ds.feature_names)
    return fes_row(
        page,
        [
            (f"data, T = {t:.4g}", ds.features[ds.temperature == t], None),
            generated_panel(t, generated.features[generated.temperature == t], method),
        ],
        compare.ranges,
        compare.periodic,
        names,
        float(ds.thermal_energy(float(t))),
        ds.energy_unit,
        f"fes_trained_T{i}",
        f"Free energy of {names[0]} and {names[1]} at T = {t:.4g} "
        f"{unit_text(ds.temperature_unit)}: training data (left) and generated (right), one "
        "colour scale.",
        methods=("simulation", method),
    )


def _marginals_figure(
    page: Page, compare: Comparison, ds: MultiTempDataset, generated: MultiTempDataset, method: str
) -> str:
    """1D densities of each feature (up to :data:`_MAX_MARGINALS`), one row per temperature."""
    import matplotlib.pyplot as plt

    names = tuple(ds.feature_names)
    n_feat = min(ds.n_features, _MAX_MARGINALS)
    fig, axes = plt.subplots(
        len(ds.temperatures),
        n_feat,
        figsize=(2.9 * n_feat + 0.6, 2.4 * len(ds.temperatures)),
        squeeze=False,
        constrained_layout=True,
    )
    for i, t in enumerate(ds.temperatures):
        data_t = ds.features[ds.temperature == t]
        gen_t = generated.features[generated.temperature == t]
        for j in range(n_feat):
            angle = bool(compare.periodic[j])
            _marginal(axes[i, j], data_t[:, j], gen_t[:, j], compare.ranges[j], angle, method)
            axes[i, j].set_xlabel(axis_label(names[j], angle, ds.energy_unit))
        axes[i, 0].set_ylabel(f"T = {t:.4g}\nprobability density")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncol=2, frameon=False)
    return page.figure(
        fig,
        "marginals_trained",
        "1D marginal densities of each feature (rows: trained temperatures; "
        "periodic features in radians).",
    )


def _metrics_parts(page: Page, rows: list[list[Any]], unit: str) -> list[str]:
    """The JS table with its explanation; the JS / floor ratios go to the summary box."""
    text = (
        "<p>Jensen-Shannon divergence of 2D histograms of the first two features "
        f"({BINS_2D}x{BINS_2D} bins). The noise floor is the same divergence between two "
        "disjoint halves of the data of the same size: a generated sample is as good as the "
        "data can tell when its JS is close to the floor. The last column is the share of "
        f"generated frames in {_BINS_SUPPORT}x{_BINS_SUPPORT} bins where the data at that "
        "temperature have no frame, beside the same share for one half of the data against "
        "the other (what finite sampling alone gives).</p>"
    )
    header = [f"temperature ({unit})", *_METRIC_COLUMNS]
    ratios = [row[5] for row in rows if np.isfinite(row[5])]
    if ratios:
        page.key("JS / noise floor at trained T", ", ".join(f"{r:.2g}" for r in ratios))
    return [text, page.table("metrics_trained", header, rows)]


def _warn(page: Page, rows: list[list[Any]]) -> None:
    """Warnings for trained temperatures where the generated samples differ from the data or
    fall outside its support."""
    for row in rows:
        if np.isfinite(row[5]) and row[5] > 5 and row[2] > 0.01:
            page.warnings.append(
                f"At the trained temperature {row[0]:.4g} the generated distribution differs "
                f"from the data (JS {row[2]:.3g} nats, {row[5]:.1f} times the noise floor)."
            )
        if np.isfinite(row[6]) and row[6] > max(100 * SUPPORT_WARNING, 2 * row[7]):
            page.warnings.append(
                f"At the trained temperature {row[0]:.4g}, {row[6]:.1f}% of the generated "
                "frames fall where the training data have no support: the model invents "
                "configurations there."
            )


def _marginal(
    ax: Any,
    data: np.ndarray,
    generated: np.ndarray,
    limits: tuple[float, float],
    periodic: bool,
    method: str,
) -> None:
    """1D densities of one feature: data and generated, in their methods' colours."""
    bins = edges(limits, periodic, BINS_1D)
    for values, style, label in (
        (data, "simulation", "data"),
        (generated, method, f"generated ({method})"),
    ):
        ax.hist(
            _wrap(values, periodic),
            bins=bins,
            density=True,
            histtype="step",
            color=METHOD_STYLE[style]["color"],
            lw=1.4,
            label=label,
        )
    set_angle_ticks(ax, periodic)
    if not periodic:
        ax.set_xlim(view_limits(np.concatenate([data, generated]), limits))


def _wrap(values: np.ndarray, periodic: bool) -> np.ndarray:
    return np.mod(values + np.pi, 2 * np.pi) - np.pi if periodic else values


def _js_row(
    compare: Comparison, data_t: np.ndarray, gen_t: np.ndarray, t: float, seed: int
) -> list[Any]:
    """One metrics row: JS generated vs data, the noise floor from the data, support shares."""
    n = min(gen_t.shape[0], data_t.shape[0] // 2)
    if n < 10:
        return [t, n, math.nan, math.nan, math.nan, math.nan, math.nan, math.nan]
    pick = np.random.default_rng(seed).choice(data_t.shape[0], n, replace=False)
    js = compare.js(gen_t[:n], data_t[pick])
    floor = compare.floor(data_t, n, seed)
    ratio = js / floor.mean if floor.mean > 0 else math.nan
    half = np.random.default_rng(seed + 1).permutation(data_t.shape[0])
    half_a, half_b = data_t[half[: half.size // 2]], data_t[half[half.size // 2 :]]
    outside = _outside_support(compare, gen_t, data_t)
    baseline = _outside_support(compare, half_b, half_a)
    return [t, n, js, floor.mean, floor.std, ratio, outside, baseline]


def _outside_support(compare: Comparison, samples: np.ndarray, reference: np.ndarray) -> float:
    """Percentage of ``samples`` in histogram bins where ``reference`` has no frame."""
    d = compare.dims
    ref = histogram(reference[:, :d], _BINS_SUPPORT, compare.ranges[:d], compare.periodic[:d])
    mine = histogram(samples[:, :d], _BINS_SUPPORT, compare.ranges[:d], compare.periodic[:d])
    return 100.0 * float(mine[ref == 0].sum())
