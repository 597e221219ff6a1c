"""The steps of a run, each as its ``thermogen`` command does it: simulate, train, sample, report.

Heavy modules (torch, OpenMM) are imported inside the steps, when a run gets there.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from .schema import ModelSettings, ReportSettings, SampleSettings, SimulateSettings, set_options

SAMPLE_OPTIONS = ("sampler", "steps", "device")
"""``sample`` settings passed to the model as sampling options (each model says which it takes)."""
MOLECULE_FILE_SUFFIXES = (".yaml", ".yml")
"""Suffixes of a molecule settings file named as ``system``."""


def system_file(system: str) -> str | None:
    """The molecule settings file that ``system`` names (None for a built-in system)."""
    from ..systems import MOLECULES

    if system in MOLECULES or Path(system).suffix.lower() not in MOLECULE_FILE_SUFFIXES:
        return None
    return system


def is_molecule(system: str) -> bool:
    """Whether ``system`` is simulated with OpenMM (a built-in molecule or a settings file)."""
    from ..systems import MOLECULES

    return system in MOLECULES or system_file(system) is not None


def molecule_settings(system: str) -> Any:
    """The molecule settings of a molecular ``system`` (read from its file, if it names one)."""
    from ..systems import MOLECULES, load_molecule_config

    path = system_file(system)
    return MOLECULES[system] if path is None else load_molecule_config(path)


def remd_config(system: str, settings: SimulateSettings) -> Any:
    """The :class:`REMDConfig` or :class:`OpenMMREMDConfig` of resolved ``settings``."""
    from ..simulate import OpenMMREMDConfig, REMDConfig

    if is_molecule(system):
        names = {"ns": "ns", "exchange_ps": "exchange_ps", "platform": "platform"}
        cls: type = OpenMMREMDConfig
    else:
        names = {
            "chains": "n_chains",
            "steps": "n_steps",
            "equilibration": "equilibration_steps",
            "stride": "stride",
            "swap_interval": "swap_interval",
            "timestep": "timestep",
            "friction": "friction",
        }
        cls = REMDConfig
    options = set_options({api: getattr(settings, key) for key, api in names.items()})
    return cls(settings.temperatures, **options, seed=settings.seed)


def simulate(
    system_name: str, settings: SimulateSettings, target: Path, progress: bool
) -> tuple[Path, str]:
    """Run REMD as ``thermogen simulate`` does; the dataset file and the run's summary."""
    from ..simulate import run_openmm_remd, run_remd
    from ..systems import build_molecule, get_system

    config = remd_config(system_name, settings)
    if not is_molecule(system_name):
        system = get_system(system_name)
        result = run_remd(system, config, progress=progress)
        data_path, _ = result.save(target.with_suffix(".npz"), system.name)
        return data_path, result.summary()
    overrides = {"timestep_ps": settings.timestep, "collision_rate_per_ps": settings.friction}
    molecule = dataclasses.replace(molecule_settings(system_name), **set_options(overrides))
    built = build_molecule(molecule, source=system_file(system_name))
    result = run_openmm_remd(
        built,
        config,
        target.with_suffix(".nc"),
        progress=progress,
        overwrite=bool(settings.overwrite),
    )
    data_path, _ = result.save(target.with_suffix(".npz"))
    return data_path, result.summary()


def train(settings: ModelSettings, dataset: Any, run_dir: Path, progress: bool) -> tuple[Any, str]:
    """Fit the model as ``thermogen train`` does, saved to ``run_dir``; it and a result line."""
    from ..pipeline import train_model

    result = train_model(dataset, settings.kind, run_dir, settings.config, progress=progress)
    return result.model, result.model.fit_summary()


def sample_temperatures(settings: SampleSettings, report: ReportSettings, trained: Any) -> Any:
    """Where the sample step samples: its temperatures, else the report's, else the trained
    ones (the report shows these samples: trained comparisons only at trained temperatures
    among them)."""
    return settings.temperatures or report.temperatures or trained


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
    from ..report import write_report

    return write_report(
        run_dir,
        dataset,
        settings.temperatures,
        out,
        samples=samples,
        n_samples=settings.n_samples,
        seed=settings.seed if settings.seed is not None else 0,
        device=settings.device,
        reference=settings.reference,
        reference_kind=settings.reference_kind,
    )
