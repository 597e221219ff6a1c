"""Generated samples against the data (trained temperatures) and against MBAR and a reference
(new temperatures): free-energy maps, marginals, JS divergences with their noise floor."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..analysis.divergence import NoiseFloor, js_between_samples, noise_floor
from ..analysis.histograms import histogram_ranges
from ..data.dataset import MultiTempDataset
from .fes import (
    BINS_2D,
    Panel,
    fes_row,
)
from .figures import METHOD_STYLE, unit_text
from .page import Page
from .thresholds import ESS_WARNING, EXTRAPOLATION_WARNING

__all__ = ["Comparison", "generated_panel", "new_temperature_section"]

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


def generated_panel(t: float, samples: np.ndarray, method: str) -> Panel:
    """The FES panel of generated frames at temperature ``t`` (model kind ``method``)."""
    return (f"generated ({method}), T = {t:.4g}", samples, None)


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
    _note_unused_reference(page, reference, targets, unit)
    sets = [generated.features, *ref_at.values()]
    if mbar is not None:
        sets.append(mbar.dataset.features)
    compare = Comparison(histogram_ranges(*sets, periodic=periodic), periodic)
    ref_label = str(METHOD_STYLE[reference_kind]["label"])
    parts = [_new_intro(mbar is not None, bool(ref_at), ref_label)]
    rows = []
    for i, t in enumerate(targets):
        gen_t = generated.features[generated.temperature == t]
        ref_t = ref_at.get(float(t))
        panels, methods, ess, weights = _panels_at(page, t, gen_t, mbar, ref_t, unit, method)
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
    header = _new_header(unit, mbar is not None, bool(ref_at), ref_label)
    if ref_at:
        _reference_summary(page, rows, mbar is not None, ref_label)
    parts.append(
        page.table("metrics_new_temperatures", header, [row[: len(header)] for row in rows])
    )
    title = "Generated vs MBAR at new temperatures" if mbar is not None else "New temperatures"
    page.section(title, *parts)


def _note_unused_reference(
    page: Page, reference: MultiTempDataset | None, targets: np.ndarray, unit: str
) -> None:
    """Say which of the reference's temperatures are not shown (not among the targets)."""
    if reference is None:
        return
    unused = [t for t in reference.temperatures if not np.isclose(targets, t, rtol=1e-6).any()]
    if unused:
        page.notes.append(
            f"The reference's frames at {', '.join(f'{t:.4g}' for t in unused)} "
            f"{unit_text(unit)} are not shown: those temperatures are not among the targets."
        )


def _panels_at(
    page: Page,
    t: float,
    gen_t: np.ndarray,
    mbar: Any,
    ref_t: np.ndarray | None,
    unit: str,
    method: str,
) -> tuple[list[Panel], list[str], float, np.ndarray | None]:
    """The generated and MBAR panels at ``t`` with their methods, MBAR's ESS and weights (and a
    warning when the ESS is low)."""
    panels: list[Panel] = [generated_panel(t, gen_t, method)]
    methods = [method]
    if mbar is None:
        return panels, methods, math.nan, None
    ess, weights = mbar.effective_sample_size(float(t)), mbar.weights(float(t))
    panels.append((f"MBAR, T = {t:.4g} (ESS {ess:.0f})", mbar.dataset.features, weights))
    methods.append("mbar")
    if ess < ESS_WARNING:
        page.warnings.append(
            f"MBAR at T = {t:.4g} {unit_text(unit)} rests on an effective sample size of only "
            f"{ess:.0f} frames (below {ESS_WARNING:.0f}): its free-energy map and "
            "heat capacity there are not reliable."
        )
    return panels, methods, ess, weights


def _new_header(unit: str, has_mbar: bool, has_reference: bool, ref_label: str) -> list[str]:
    """Columns of the new-temperature metrics table."""
    header = [f"temperature ({unit})", "MBAR effective sample size (frames)"]
    if has_mbar:
        header.append("JS generated vs MBAR (nats)")
    if has_reference:
        header += [
            f"{ref_label} frames",
            f"JS generated vs {ref_label} (nats)",
            "its noise floor mean (nats)",
            "its noise floor std (nats)",
            f"JS MBAR vs {ref_label} (nats)",
            "its noise floor at the MBAR ESS, mean (nats)",
            "its noise floor at the MBAR ESS, std (nats)",
        ]
    return header


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
