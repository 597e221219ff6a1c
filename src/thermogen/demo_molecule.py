"""The molecular demo: alanine dipeptide at temperatures that were never simulated.

Replica exchange of alanine dipeptide in vacuum (OpenMM + openmmtools, AMBER99SB-ILDN) on the
sparse training ladder 350, 450, 580 K trains a diffusion model on the backbone dihedrals
(phi, psi). The model generates at the held-out temperatures 300 K (14% below the ladder),
400 K and 510 K (inside it); MBAR reweights the training frames to the same temperatures. Both
are compared with the reference that ships with thermogen (independent dense-ladder REMD runs,
:func:`thermogen.analysis.ramachandran.load_adp_reference`): Ramachandran free-energy maps, the
Jensen-Shannon divergence of the 36 x 36 phi/psi histograms, and the populations of
C7eq/beta, alphaR and C7ax/alphaL.

MBAR and the model learn from one short run, so they share its sampling error. The rare state
C7ax/alphaL (phi > 0) dominates that error: in 5 ns per replica it is entered a few dozen times
and single visits last up to a few hundred ps, so one run's population of it can be several
times the reference's (measured, MBAR at 300 K: seeds 1 and 2 gave 0.8% and 0.9%, seed 0 5%,
against the reference's 1.4 +/- 0.2%).

Outputs in one folder: ``remd.nc`` (the openmmtools store), ``data.npz`` (the training frames,
with ``data.pdb`` and ``data.run.json``), ``diffusion/`` (the model's run folder),
``populations.csv``, ``ramachandran.png`` and ``run.json``. Units: K, kJ/mol, ns; angles in
radians in the data and degrees in the figure.
"""

from __future__ import annotations

import csv
import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .analysis import js_divergence
from .analysis.mbar import MBARReweighter
from .analysis.ramachandran import (
    BINS,
    STATES,
    TRAINING_LADDER,
    RamachandranReference,
    load_adp_reference,
    phi_psi_histogram,
    state_of,
    state_populations,
)
from .demo_molecule_figure import METHOD_NAMES, METHODS, TRAINED_TEMPERATURE, draw_maps
from .fileio import atomic_write
from .models import DiffusionConfig
from .pipeline import sample_model, train_model
from .provenance import run_record, write_json
from .simulate.openmm_remd import OpenMMREMDConfig, run_openmm_remd
from .systems.molecules import get_molecule

__all__ = [
    "DEMO_NS",
    "DEMO_TRAIN_STEPS",
    "MoleculeDemoResult",
    "MoleculeDemoRow",
    "format_molecule_table",
    "run_molecule_demo",
]

SYSTEM = "alanine-dipeptide"
"""The built-in molecule of the demo (vacuum)."""
DEMO_NS = 5.0
"""Simulated ns per replica (3 replicas: 15 ns in all, 2-3 minutes on the Reference platform)."""
DEMO_TRAIN_STEPS = DiffusionConfig().train.steps
"""Optimiser steps of the diffusion model: the default model's 6,000 (about 4 minutes here)."""
N_GENERATED = 20_000
"""Frames the diffusion model generates per temperature."""


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
class MoleculeDemoResult:
    """Rows of the comparison table, the run statistics and the files written.

    Attributes
    ----------
    rows
        One row per held-out temperature and method (reference, MBAR, diffusion).
    trained_js
        JS (nats) of MBAR's and the model's histograms to the REMD frames at the trained
        temperature shown in the figure: ``{"mbar": ..., "diffusion": ...}``.
    ladder
        Simulated temperatures (K).
    remd_summary
        Platform, speed (ns/day), swap acceptance and round trips of the REMD run.
    timings
        Wall-clock seconds of each stage (``remd``, ``train``, ``sample``, ``total``).
    """

    rows: tuple[MoleculeDemoRow, ...]
    trained_js: dict[str, float]
    ladder: tuple[float, ...]
    remd_summary: str
    timings: dict[str, float]
    out_dir: Path
    figure: Path
    table: Path
    data: Path
    run_dir: Path
    record: Path
    reference: RamachandranReference = field(repr=False)


def run_molecule_demo(
    out_dir: str | Path = "thermogen_demo_alanine_dipeptide",
    seed: int = 0,
    ns: float = DEMO_NS,
    train_steps: int = DEMO_TRAIN_STEPS,
    n_generated: int = N_GENERATED,
    platform: str = "auto",
    progress: bool = True,
) -> MoleculeDemoResult:
    """Simulate, train, generate, reweight and compare; writes the files listed in the module
    docstring and returns the table.

    Parameters
    ----------
    out_dir
        Folder for the outputs (created if needed; an earlier demo's store there is replaced).
    seed
        Seed of the simulation, the training and the generation; the same seed on the same
        platform gives the same numbers.
    ns
        Simulated ns per replica (three replicas, one swap attempt per ps).
    train_steps
        Optimiser steps of the diffusion model.
    n_generated
        Frames generated per temperature.
    platform
        OpenMM platform, or ``"auto"`` to time them and take the fastest.
    progress
        Show progress bars.
    """
    began = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    reference = load_adp_reference()
    targets = tuple(float(t) for t in reference.temperatures)
    timings: dict[str, float] = {}

    remd_config = OpenMMREMDConfig(TRAINING_LADDER, ns=ns, platform=platform, seed=seed)
    started = time.perf_counter()
    simulation = run_openmm_remd(
        get_molecule(SYSTEM), remd_config, out / "remd.nc", progress=progress, overwrite=True
    )
    timings["remd"] = time.perf_counter() - started
    data_path, _ = simulation.save(out / "data.npz")
    data = simulation.dataset

    model_config = DiffusionConfig()
    model_config = replace(model_config, train=replace(model_config.train, steps=train_steps))
    started = time.perf_counter()
    trained = train_model(
        data, "diffusion", out / "diffusion", model_config, seed=seed, progress=progress
    )
    model_config = trained.model.config
    timings["train"] = time.perf_counter() - started
    shown = tuple(sorted((*targets, TRAINED_TEMPERATURE)))
    started = time.perf_counter()
    generated = sample_model(
        trained.model, shown, n_generated, out / "samples.npz", seed=seed, progress=progress
    ).samples
    timings["sample"] = time.perf_counter() - started
    model_angles = {t: generated.features[generated.temperature == t] for t in shown}
    comparison = _compare(data, model_angles, shown, targets, reference)
    table_path = _write_table(comparison.rows, out / "populations.csv")
    figure_path = draw_maps(
        comparison.maps,
        shown,
        targets,
        comparison.rows,
        comparison.trained_js,
        int(np.sum(data.temperature == TRAINED_TEMPERATURE)),
        {t: comparison.mbar.effective_sample_size(t) for t in shown},
        reference,
        n_generated,
        out / "ramachandran.png",
    )
    timings["total"] = time.perf_counter() - began
    settings = _settings(remd_config, model_config, targets, n_generated, reference)
    results = _results(comparison, simulation, data.n_frames, timings)
    record = write_json(out / "run.json", run_record("demo", settings, seed, results))
    return MoleculeDemoResult(
        rows=comparison.rows,
        trained_js=comparison.trained_js,
        ladder=remd_config.temperatures,
        remd_summary=simulation.summary(),
        timings=timings,
        out_dir=out,
        figure=figure_path,
        table=table_path,
        data=data_path,
        run_dir=out / "diffusion",
        record=record,
        reference=reference,
    )


@dataclass(frozen=True)
class _Comparison:
    """The demo's table rows, Ramachandran maps and JS at the trained temperature."""

    rows: tuple[MoleculeDemoRow, ...]
    maps: dict[tuple[str, float], np.ndarray]
    trained_js: dict[str, float]
    mbar: MBARReweighter
    decorrelated_frames: int


def _compare(
    data: Any,
    model_angles: dict[float, np.ndarray],
    shown: tuple[float, ...],
    targets: tuple[float, ...],
    reference: RamachandranReference,
) -> _Comparison:
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
    return _Comparison(tuple(rows), maps, trained_js, mbar, decorrelated.n_frames)


def _settings(
    remd_config: OpenMMREMDConfig,
    model_config: DiffusionConfig,
    targets: tuple[float, ...],
    n_generated: int,
    reference: RamachandranReference,
) -> dict[str, Any]:
    """The demo's resolved settings for its run record."""
    return {
        "system": SYSTEM,
        "training_ladder_K": TRAINING_LADDER,
        "held_out_temperatures_K": targets,
        "trained_temperature_shown_K": TRAINED_TEMPERATURE,
        "remd": asdict(remd_config),
        "diffusion": model_config.to_dict(),
        "generated_per_temperature": n_generated,
        "histogram_bins": BINS,
        "states": STATES,
        "reference": {
            "seeds": reference.seeds,
            "ns_per_replica": reference.ns_per_replica,
            "ladder_K": reference.ladder,
            "source": reference.source,
        },
    }


def _results(
    comparison: _Comparison, simulation: Any, n_frames: int, timings: dict[str, float]
) -> dict[str, Any]:
    """The demo's results for its run record: rows, JS, REMD statistics, frames, timings."""
    return {
        "rows": [_finite_or_none(asdict(r)) for r in comparison.rows],
        "js_at_trained_temperature": comparison.trained_js,
        "platform": simulation.platform.describe(),
        "ns_per_day": simulation.ns_per_day,
        "swap_acceptance": simulation.acceptance,
        "round_trips": simulation.round_trips,
        "training_frames": n_frames,
        "mbar_frames": comparison.mbar.n_frames,
        "mbar_decorrelated_frames": comparison.decorrelated_frames,
        "timings_s": timings,
    }


def _finite_or_none(value: Any) -> Any:
    """``value`` with every nan float (in dicts, lists and tuples) replaced by None, for JSON."""
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_none(v) for v in value]
    if isinstance(value, float | np.floating) and math.isnan(value):
        return None
    return value


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


def _write_table(rows: tuple[MoleculeDemoRow, ...], path: Path) -> Path:
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
