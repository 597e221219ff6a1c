"""The alanine-dipeptide demo's comparison: reference, MBAR and diffusion populations and JS
divergences at each temperature, as rows, a printed table and a CSV file."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .analysis import js_divergence
from .analysis.mbar import MBARReweighter
from .analysis.ramachandran import (
    STATES,
    RamachandranReference,
    phi_psi_histogram,
    state_of,
    state_populations,
)
from .demo_molecule_figure import METHOD_NAMES, METHODS, TRAINED_TEMPERATURE
from .fileio import atomic_write

__all__ = ["Comparison", "MoleculeDemoRow", "compare", "format_molecule_table", "write_table"]


@dataclass(frozen=True)
class MoleculeDemoRow:
    """One method's populations at one held-out temperature.

    Attributes
    ----------
    temperature
        Held-out temperature, K.
    method
        ``"reference"``, ``"mbar"`` or ``"diffusion"``.
    populations
        Populations of :data:`~thermogen.analysis.ramachandran.STATES` (sum to 1).
    std_error
        One-sigma errors: the standard error over the reference's independent runs
        (reference); MBAR's asymptotic error from the decorrelated frames (MBAR); nan for the
        diffusion model (one training run gives no error bar; its 20,000 samples add less
        than 0.004).
    js_to_reference
        Jensen-Shannon divergence (nats) of the phi/psi histogram to the reference's mean
        histogram; for the reference itself, the mean JS between its independent runs (the
        noise floor of one run).
    effective_sample_size
        Kish effective sample size of MBAR's weights over all training frames (nan for the
        other methods); the frames are correlated, so fewer are independent.
    """

    temperature: float
    method: str
    populations: tuple[float, ...]
    std_error: tuple[float, ...]
    js_to_reference: float
    effective_sample_size: float = math.nan


@dataclass(frozen=True)
class Comparison:
    """The demo's table rows, Ramachandran maps and JS at the trained temperature."""

    rows: tuple[MoleculeDemoRow, ...]
    maps: dict[tuple[str, float], np.ndarray]
    trained_js: dict[str, float]
    mbar: MBARReweighter
    decorrelated_frames: int


def compare(
    data: Any,
    model_angles: dict[float, np.ndarray],
    shown: tuple[float, ...],
    targets: tuple[float, ...],
    reference: RamachandranReference,
) -> Comparison:
    """Reference, MBAR and diffusion at each target (populations, JS to the reference), and
    all three maps at the trained temperature (the simulation there as the reference)."""
    # MBAR's estimates use every frame; its asymptotic errors assume independent frames, so
    # they come from the decorrelated subset (every g-th frame, g the statistical inefficiency)
    mbar = MBARReweighter(data)
    mbar_weights = {t: mbar.weights(t) for t in shown}
    mbar_pops = np.stack([state_populations(data.features, mbar_weights[t]) for t in targets])
    decorrelated = MBARReweighter(data, decorrelate=True)
    mbar_errors = _mbar_errors(decorrelated, targets)
    floor = reference.js_between_runs()
    rows: list[MoleculeDemoRow] = []
    maps: dict[tuple[str, float], np.ndarray] = {}
    for i, t in enumerate(targets):
        ref_hist = reference.mean_histograms[i]
        mbar_hist = phi_psi_histogram(data.features, mbar_weights[t])
        model_hist = phi_psi_histogram(model_angles[t])
        maps |= {("reference", t): ref_hist, ("mbar", t): mbar_hist, ("diffusion", t): model_hist}
        rows += [
            MoleculeDemoRow(
                t,
                "reference",
                tuple(reference.mean_populations[i]),
                tuple(reference.std_error[i]),
                float(floor[i]),
            ),
            MoleculeDemoRow(
                t,
                "mbar",
                tuple(mbar_pops[i]),
                tuple(mbar_errors[i]),
                js_divergence(mbar_hist, ref_hist),
                mbar.effective_sample_size(t),
            ),
            MoleculeDemoRow(
                t,
                "diffusion",
                tuple(state_populations(model_angles[t])),
                (math.nan,) * len(STATES),
                js_divergence(model_hist, ref_hist),
            ),
        ]
    t = TRAINED_TEMPERATURE
    maps |= {
        ("reference", t): phi_psi_histogram(data.features[data.temperature == t]),
        ("mbar", t): phi_psi_histogram(data.features, mbar_weights[t]),
        ("diffusion", t): phi_psi_histogram(model_angles[t]),
    }
    trained_js = {
        method: js_divergence(maps[method, t], maps["reference", t]) for method in METHODS[1:]
    }
    return Comparison(tuple(rows), maps, trained_js, mbar, decorrelated.n_frames)


def _mbar_errors(mbar: MBARReweighter, temperatures: tuple[float, ...]) -> np.ndarray:
    """(L, 3) MBAR's one-sigma errors of the populations of :data:`STATES`.

    A state no frame visits gets error nan (pymbar cannot take the log of an observable that is
    zero everywhere).
    """
    labels = state_of(mbar.dataset.features)
    visited = np.flatnonzero(np.bincount(labels, minlength=len(STATES)) > 0)
    errors = np.full((len(temperatures), len(STATES)), np.nan)
    estimate = mbar.expectations(labels[None, :] == visited[:, None], temperatures)
    errors[:, visited] = estimate.std_error
    return errors


def format_molecule_table(rows: tuple[MoleculeDemoRow, ...]) -> str:
    """The demo table as aligned text: populations +/- one-sigma errors, JS and ESS."""
    head = f"{'T (K)':>6} {'method':>10} {'JS':>8} {'ESS':>7}  " + "  ".join(
        f"{s:>17}" for s in STATES
    )
    lines = [head]
    for r in rows:
        cells = [
            f"{p:.3f}" + ("" if math.isnan(e) else f" +/- {e:.3f}")
            for p, e in zip(r.populations, r.std_error, strict=True)
        ]
        ess = "" if math.isnan(r.effective_sample_size) else f"{r.effective_sample_size:,.0f}"
        first = r.method == METHODS[0]
        js = f"{r.js_to_reference:.4f}" + ("*" if first else " ")
        lines.append(
            f"{f'{r.temperature:.0f}' if first else '':>6} {METHOD_NAMES[r.method]:>10} "
            f"{js:>8} {ess:>7}  " + "  ".join(f"{c:>17}" for c in cells)
        )
    lines.append(
        "JS: Jensen-Shannon divergence (nats) of the 36 x 36 phi/psi histogram to the reference; "
        "* between the reference's own runs (noise floor)"
    )
    lines.append(
        "C7ax/alphaL (phi > 0) is entered a few dozen times in a few ns and some visits last "
        "hundreds of ps: one short run can hold several times its true population, and MBAR and "
        "the model inherit that run's error"
    )
    return "\n".join(lines)


def write_table(rows: tuple[MoleculeDemoRow, ...], path: Path) -> Path:
    with atomic_write(path) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["temperature_K", "method", "js_to_reference", "effective_sample_size"]
            + [f"{s}{suffix}" for s in STATES for suffix in ("", "_std_error")]
        )
        for r in rows:
            writer.writerow(
                [r.temperature, r.method, r.js_to_reference, r.effective_sample_size]
                + [v for pair in zip(r.populations, r.std_error, strict=True) for v in pair]
            )
    return path
