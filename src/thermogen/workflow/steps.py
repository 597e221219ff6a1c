"""The steps of a run, each as its ``thermogen`` command does it (through :mod:`thermogen.pipeline`):
simulate, train, sample, report.

Heavy modules (torch, OpenMM) are imported inside the steps, when a run gets there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .schema import ModelSettings, ReportSettings, SampleSettings, SimulateSettings, set_options

SAMPLE_OPTIONS = ("sampler", "steps", "device")
"""``sample`` settings passed to the model as sampling options (each model says which it takes)."""


def simulate(
    system_name: str, settings: SimulateSettings, target: Path, progress: bool
) -> tuple[Path, str]:
    """Run REMD as ``thermogen simulate`` does; the dataset file and the run's summary."""
    from ..pipeline.simulation import simulate_system

    result = simulate_system(system_name, settings, target, progress=progress)
    return result.data_path, result.remd_summary


def train(settings: ModelSettings, dataset: Any, run_dir: Path, progress: bool) -> tuple[Any, str]:
    """Fit the model as ``thermogen train --overwrite`` does (a run of the workflow again
    replaces its model), saved to ``run_dir``; it and a result line."""
    from ..pipeline import train_model

    result = train_model(
        dataset, settings.kind, run_dir, settings.config, overwrite=True, progress=progress
    )
    return result.model, result.model.fit_summary()


def sample_temperatures(settings: SampleSettings, report: ReportSettings, trained: Any) -> list:
    """Where the sample step samples, in order: its temperatures (default the report's, else the
    trained ones), then, with ``at_trained``, the trained temperatures not among them. The
    report shows exactly these samples."""
    asked = [float(t) for t in settings.temperatures or report.temperatures or trained]
    if settings.at_trained:
        asked += [float(t) for t in trained if not np.isclose(asked, t, rtol=1e-9).any()]
    return asked


def sample(
    model: Any, settings: SampleSettings, temperatures: np.ndarray, target: Path, progress: bool
) -> Path:
    """Generate as ``thermogen sample`` does; the samples file (with its run record)."""
    from ..pipeline import sample_model

    options = set_options({name: getattr(settings, name) for name in SAMPLE_OPTIONS})
    result = sample_model(
        model,
        temperatures,
        settings.n,
        target.with_suffix(".npz"),
        seed=settings.seed,
        options=options,
        progress=progress,
    )
    return result.path


def report(
    settings: ReportSettings, run_dir: Path, dataset: Any, out: Path, samples: Path | None
) -> Path:
    """Write the HTML report as ``thermogen report`` does, showing ``samples`` when given."""
    from ..pipeline import report_run

    return report_run(
        run_dir,
        out,
        data=dataset,
        temperatures=settings.temperatures,
        samples=samples,
        reference=settings.reference,
        reference_kind=settings.reference_kind,
        n_samples=settings.n_samples,
        seed=settings.seed if settings.seed is not None else 0,
        device=settings.device,
    ).path
