"""Generated samples against the data (trained temperatures) and against MBAR and a reference
(new temperatures): free-energy maps, marginals, JS divergences with their noise floor."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..analysis.divergence import NoiseFloor, js_between_samples, noise_floor
from ..analysis.histograms import histogram, histogram_ranges
from ..data.dataset import MultiTempDataset
from .fes import (
    BINS_1D,
    BINS_2D,
    FES_CEILING_KT,
    Panel,
    axis_label,
    edges,
    fes_row,
    set_angle_ticks,
    view_limits,
)
from .figures import METHOD_STYLE, unit_text
from .page import Page
from .thresholds import ESS_WARNING, EXTRAPOLATION_WARNING, SUPPORT_WARNING

__all__ = ["Comparison", "new_temperature_section", "trained_section"]

_MAX_MARGINALS = 6
"""At most this many features get 1D marginal panels."""
_BINS_SUPPORT = 20
_FLOOR_REPEATS = 3


@dataclass(frozen=True)
class Comparison:
    """What the samples of one temperature are compared on: the first two features' histograms.

    Attributes
    ----------
    ranges
        Histogram range of every feature.
    periodic
        (D,) which features are angles.
    """

    ranges: list[tuple[float, float]]
    periodic: np.ndarray

    @property
    def dims(self) -> int:
        """Features compared (the first two, or one)."""
        return min(2, len(self.ranges))

    def js(self, a: np.ndarray, b: np.ndarray, weights_a: np.ndarray | None = None) -> float:
        """JS divergence (nats) of the 2D histograms of samples ``a`` (optionally weighted) and ``b``."""
        d = self.dims
        return js_between_samples(
            a[:, :d], b[:, :d], BINS_2D, self.ranges[:d], self.periodic[:d], weights_a=weights_a
        )

    def floor(self, pool: np.ndarray, n: int, seed: int) -> NoiseFloor:
        """Noise floor of :meth:`js` between two disjoint size-``n`` subsamples of ``pool``."""
        return noise_floor(pool, n, self.js, n_repeats=_FLOOR_REPEATS, seed=seed)


def trained_section(
    page: Page, generated: MultiTempDataset, ds: MultiTempDataset, seed: int, method: str
) -> None:
    """Generated vs data at every trained temperature: FES, marginals, JS with noise floor.

    ``generated`` holds the samples of the model kind ``method`` at every temperature of ``ds``.
    """
    import matplotlib.pyplot as plt

    periodic = np.asarray(ds.periodic, dtype=bool)
    names = tuple(ds.feature_names)
    n_samples = int(np.sum(generated.temperature == ds.temperatures[0]))
    ranges = histogram_ranges(ds.features, generated.features, periodic=periodic)
    compare = Comparison(ranges, periodic)
    parts = [
        f"<p>{n_samples} frames generated per temperature against the training data at the same "
        "temperature. Free energies F = -k<sub>B</sub>T ln p of 2D histograms "
        f"({BINS_2D}x{BINS_2D} bins over the region shown) are zero at each map's minimum, with "
        f"contours every k<sub>B</sub>T or so; white regions are empty or above "
        f"{FES_CEILING_KT:g} k<sub>B</sub>T.</p>"
    ]
    rows = []
    n_feat = min(ds.n_features, _MAX_MARGINALS)
    fig1d, axes1d = plt.subplots(
        len(ds.temperatures),
        n_feat,
        figsize=(2.9 * n_feat + 0.6, 2.4 * len(ds.temperatures)),
        squeeze=False,
        constrained_layout=True,
    )
    unit = ds.temperature_unit
    for i, t in enumerate(ds.temperatures):
        data_t = ds.features[ds.temperature == t]
        gen_t = generated.features[generated.temperature == t]
        if ds.n_features >= 2:
            parts.append(
                fes_row(
                    page,
                    [(f"data, T = {t:.4g}", data_t, None), _generated_panel(t, gen_t, method)],
                    ranges,
                    periodic,
                    names,
                    float(ds.thermal_energy(float(t))),
                    ds.energy_unit,
                    f"fes_trained_T{i}",
                    f"Free energy of {names[0]} and {names[1]} at T = {t:.4g} {unit_text(unit)}: training "
                    "data (left) and generated (right), one colour scale.",
                    methods=("simulation", method),
                )
            )
        for j in range(n_feat):
            _marginal(axes1d[i, j], data_t[:, j], gen_t[:, j], ranges[j], bool(periodic[j]), method)
            axes1d[i, j].set_xlabel(axis_label(names[j], bool(periodic[j]), ds.energy_unit))
        axes1d[i, 0].set_ylabel(f"T = {t:.4g}\nprobability density")
        rows.append(_js_row(compare, data_t, gen_t, t, seed))
    handles, labels = axes1d[0, 0].get_legend_handles_labels()
    fig1d.legend(handles, labels, loc="outside upper center", ncol=2, frameon=False)
    parts.append(
        page.figure(
            fig1d,
            "marginals_trained",
            "1D marginal densities of each feature (rows: trained temperatures; "
            "periodic features in radians).",
        )
    )
    header = [
        f"temperature ({unit})",
        "frames compared",
        "JS generated vs data (nats)",
        "noise floor mean (nats)",
        "noise floor std (nats)",
        "JS / floor",
        "generated outside data support (%)",
        "data half outside other half (%)",
    ]
    parts.append(
        "<p>Jensen-Shannon divergence of 2D histograms of the first two features "
        f"({BINS_2D}x{BINS_2D} bins). The noise floor is the same divergence between two "
        "disjoint halves of the data of the same size: a generated sample is as good as the "
        "data can tell when its JS is close to the floor. The last column is the share of "
        f"generated frames in {_BINS_SUPPORT}x{_BINS_SUPPORT} bins where the data at that "
        "temperature have no frame, beside the same share for one half of the data against "
        "the other (what finite sampling alone gives).</p>"
    )
    parts.append(page.table("metrics_trained", header, rows))
    ratios = [row[5] for row in rows if np.isfinite(row[5])]
    if ratios:
        page.key("JS / noise floor at trained T", ", ".join(f"{r:.2g}" for r in ratios))
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
    if len(parts) > 1:
        page.offer_headline(parts[1], 1)
    page.section("Generated vs data at trained temperatures", *parts)


def _generated_panel(t: float, samples: np.ndarray, method: str) -> Panel:
    return (f"generated ({method}), T = {t:.4g}", samples, None)


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


def _extrapolation_warnings(
    page: Page, targets: np.ndarray, trained: np.ndarray, unit: str
) -> None:
    """Warn about targets more than :data:`EXTRAPOLATION_WARNING` outside the trained range."""
    if not trained.size:
        return
    for t in targets:
        side, edge = (
            ("below the lowest", trained.min())
            if t < (1 - EXTRAPOLATION_WARNING) * trained.min()
            else ("above the highest", trained.max())
            if t > (1 + EXTRAPOLATION_WARNING) * trained.max()
            else ("", math.nan)
        )
        if side:
            page.warnings.append(
                f"Target temperature {t:.4g} {unit_text(unit)} is more than {EXTRAPOLATION_WARNING:.0%} "
                f"{side} trained temperature ({edge:.4g} {unit_text(unit)}): the model extrapolates there."
            )


def new_temperature_section(
    page: Page,
    generated: MultiTempDataset,
    energy_unit: str,
    mbar: Any,
    reference: MultiTempDataset | None,
    reference_kind: str,
    targets: np.ndarray,
    trained: np.ndarray,
    unit: str,
    seed: int,
    method: str,
) -> None:
    """Generated FES at new temperatures beside MBAR's and the reference's, with metrics.

    Parameters
    ----------
    generated
        The model's samples at (at least) every temperature of ``targets``.
    mbar
        MBAR reweighter of the training data, or ``None`` without energies.
    reference
        Held-out frames at some of the ``targets`` (or ``None``).
    reference_kind
        ``"reference"`` (held-out simulation) or ``"exact"`` (drawn from the exact density):
        the label and style of the reference in figures and tables.
    """
    from ..units import thermal_energy

    _extrapolation_warnings(page, targets, trained, unit)
    names = tuple(generated.feature_names)
    periodic = np.asarray(generated.periodic, dtype=bool)
    ref_at = _reference_frames(reference, targets)
    if reference is not None:
        unused = [t for t in reference.temperatures if not np.isclose(targets, t, rtol=1e-6).any()]
        if unused:
            page.notes.append(
                f"The reference's frames at {', '.join(f'{t:.4g}' for t in unused)} "
                f"{unit_text(unit)} are not shown: those temperatures are not among the targets."
            )
    sets = [generated.features, *ref_at.values()]
    if mbar is not None:
        sets.append(mbar.dataset.features)
    compare = Comparison(histogram_ranges(*sets, periodic=periodic), periodic)
    ref_label = str(METHOD_STYLE[reference_kind]["label"])
    parts = [_new_intro(mbar is not None, bool(ref_at), ref_label)]
    rows = []
    for i, t in enumerate(targets):
        gen_t = generated.features[generated.temperature == t]
        panels: list[Panel] = [_generated_panel(t, gen_t, method)]
        methods = [method]
        ess, weights = math.nan, None
        if mbar is not None:
            ess, weights = mbar.effective_sample_size(float(t)), mbar.weights(float(t))
            panels.append((f"MBAR, T = {t:.4g} (ESS {ess:.0f})", mbar.dataset.features, weights))
            methods.append("mbar")
            if ess < ESS_WARNING:
                page.warnings.append(
                    f"MBAR at T = {t:.4g} {unit_text(unit)} rests on an effective sample size of only "
                    f"{ess:.0f} frames (below {ESS_WARNING:.0f}): its free-energy map and "
                    "heat capacity there are not reliable."
                )
        ref_t = ref_at.get(float(t))
        if ref_t is not None:
            panels.append((f"{ref_label}, T = {t:.4g}", ref_t, None))
            methods.append(reference_kind)
        if len(names) >= 2:
            shown = " | ".join(p[0].split(",")[0] for p in panels)
            figure = fes_row(
                page,
                panels,
                compare.ranges,
                periodic,
                names,
                float(thermal_energy(float(t), unit)),
                energy_unit,
                f"fes_new_T{i}",
                f"Free energy of {names[0]} and {names[1]} at the new temperature "
                f"T = {t:.4g} {unit_text(unit)}: {shown}; one colour scale, the same axes.",
                methods=methods,
            )
            parts.append(figure)
            inside = bool(trained.size) and trained.min() <= t <= trained.max()
            page.offer_headline(figure, (3 if ref_t is not None else 2) + int(inside))
        rows.append(_new_row(compare, t, gen_t, mbar, weights, ess, ref_t, seed))
    header = [f"temperature ({unit})", "MBAR effective sample size (frames)"]
    if mbar is not None:
        header.append("JS generated vs MBAR (nats)")
    if ref_at:
        header += [
            f"{ref_label} frames",
            f"JS generated vs {ref_label} (nats)",
            "its noise floor mean (nats)",
            "its noise floor std (nats)",
            f"JS MBAR vs {ref_label} (nats)",
            "its noise floor at the MBAR ESS, mean (nats)",
            "its noise floor at the MBAR ESS, std (nats)",
        ]
        _reference_summary(page, rows, mbar is not None, ref_label)
    parts.append(
        page.table("metrics_new_temperatures", header, [row[: len(header)] for row in rows])
    )
    title = "Generated vs MBAR at new temperatures" if mbar is not None else "New temperatures"
    page.section(title, *parts)


def _new_intro(has_mbar: bool, has_reference: bool, ref_label: str) -> str:
    """The paragraph opening the new-temperature section."""
    text = "<p>Generated free-energy surfaces at the target temperatures"
    if has_mbar:
        text += (
            ", beside MBAR's reweighting of the training data (its Kish effective sample size "
            "says how many independent frames the reweighted map rests on)"
        )
    else:
        text += "; MBAR is left out because the data carry no energies (or no data were given)"
    if has_reference:
        text += (
            f", and beside the {ref_label} frames where they exist. The JS divergences against "
            f"the {ref_label} use 2D histograms of the first two features ({BINS_2D}x{BINS_2D} "
            f"bins); the noise floor is the same divergence between two disjoint {ref_label} "
            "subsamples of the size compared: a method is as good as the reference can tell "
            "when its JS is close to the floor (MBAR's own floor is higher when its effective "
            "sample size is smaller)"
        )
    return text + ".</p>"


def _reference_summary(page: Page, rows: list[list[Any]], has_mbar: bool, label: str) -> None:
    """Summary-box line: JS / noise floor of generated (and MBAR) against the reference."""
    col = 3 if has_mbar else 2  # the reference-frames column
    found = [r for r in rows if r[col] > 0 and np.isfinite(r[col + 1])]
    if not found:
        return

    def ratios(js: int) -> str:
        return ", ".join(f"{r[js] / r[js + 1]:.2g}" if r[js + 1] > 0 else "n/a" for r in found)

    text = f"at T = {', '.join(f'{r[0]:.4g}' for r in found)}: generated {ratios(col + 1)}"
    if has_mbar:
        text += f"; MBAR {ratios(col + 4)}"
    page.key(f"JS / noise floor vs {label}", text)


def _reference_frames(
    reference: MultiTempDataset | None, targets: np.ndarray
) -> dict[float, np.ndarray]:
    """Reference features at each target it holds (temperatures matched to 1 part in 1e6)."""
    if reference is None:
        return {}
    found = {}
    for t in targets:
        here = np.isclose(reference.temperature, t, rtol=1e-6, atol=0.0)
        if here.any():
            found[float(t)] = reference.features[here]
    return found


def _new_row(
    compare: Comparison,
    t: float,
    gen_t: np.ndarray,
    mbar: Any,
    weights: np.ndarray | None,
    ess: float,
    ref_t: np.ndarray | None,
    seed: int,
) -> list[Any]:
    """Metrics at one new temperature.

    The row is [T, ESS, (JS generated vs MBAR,) reference frames, JS generated vs reference,
    its floor mean and std, JS MBAR vs reference, its floor mean and std]. Each method is
    compared with a reference subsample of its own effective size (generated frames, MBAR's
    Kish ESS), and its floor is the JS between two reference subsamples of that size.
    """
    row: list[Any] = [t, ess]
    if mbar is not None:
        row.append(compare.js(mbar.dataset.features, gen_t, weights_a=weights))
    n_ref = 0 if ref_t is None else ref_t.shape[0]
    row.append(n_ref)
    row += _versus_reference(compare, gen_t, None, gen_t.shape[0], ref_t, seed)
    if mbar is not None:
        row += _versus_reference(compare, mbar.dataset.features, weights, ess, ref_t, seed)
    else:
        row += [math.nan] * 3
    return row


def _versus_reference(
    compare: Comparison,
    samples: np.ndarray,
    weights: np.ndarray | None,
    size: float,
    ref_t: np.ndarray | None,
    seed: int,
) -> list[float]:
    """[JS of samples vs a reference subsample of ``size`` frames, floor mean, floor std].

    ``size`` is capped at half the reference; NaNs when that leaves fewer than 10 frames.
    """
    n = 0 if ref_t is None or not np.isfinite(size) else int(min(size, ref_t.shape[0] // 2))
    if ref_t is None or n < 10:
        return [math.nan] * 3
    pick = np.random.default_rng(seed).choice(ref_t.shape[0], n, replace=False)
    floor = compare.floor(ref_t, n, seed)
    return [compare.js(samples, ref_t[pick], weights_a=weights), floor.mean, floor.std]
