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

import math
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .analysis.ramachandran import (
    BINS,
    STATES,
    TRAINING_LADDER,
    RamachandranReference,
    load_adp_reference,
)
from .demo_molecule_figure import TRAINED_TEMPERATURE, draw_maps
from .demo_molecule_table import (
    Comparison,
    MoleculeDemoRow,
    compare,
    format_molecule_table,
    write_table,
)
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
        data,
        "diffusion",
        out / "diffusion",
        model_config,
        seed=seed,
        overwrite=True,
        progress=progress,
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
    comparison = compare(data, model_angles, shown, targets, reference)
    table_path = write_table(comparison.rows, out / "populations.csv")
    figure_path = _figure(comparison, data, shown, targets, reference, n_generated, out)
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


def _figure(
    comparison: Comparison,
    data: Any,
    shown: tuple[float, ...],
    targets: tuple[float, ...],
    reference: RamachandranReference,
    n_generated: int,
    out: Path,
) -> Path:
    """``ramachandran.png``: the maps of every method at every temperature shown."""
    return draw_maps(
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
    comparison: Comparison, simulation: Any, n_frames: int, timings: dict[str, float]
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
