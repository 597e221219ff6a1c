"""Replica exchange of a built-in analytic system or a molecule, as ``thermogen simulate`` and
the workflow's simulate step both run it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..data.dataset import MultiTempDataset

__all__ = [
    "SimulationResult",
    "is_molecule",
    "molecule_settings",
    "remd_config",
    "simulate_system",
    "system_file",
]


@dataclass(frozen=True)
class SimulationResult:
    """The frames of a replica-exchange run and the files written.

    Attributes
    ----------
    dataset
        The frames, with temperatures, energies, replicas and times.
    data_path, record_path
        The dataset file and its run record.
    remd_summary
        The simulation's own summary (acceptance, round trips, speed).
    written
        One line saying what was written where.
    """

    dataset: MultiTempDataset
    data_path: Path
    record_path: Path
    remd_summary: str
    written: str

    def summary(self) -> str:
        """What ``thermogen simulate`` prints."""
        return f"{self.remd_summary}\n{self.written}"


def _set(options: dict[str, Any]) -> dict[str, Any]:
    """The entries of ``options`` that are set (not None)."""
    return {key: value for key, value in options.items() if value is not None}


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


def remd_config(system: str, settings: Any) -> Any:
    """The :class:`REMDConfig` or :class:`OpenMMREMDConfig` of resolved ``settings``."""
    from ..simulate import OpenMMREMDConfig, REMDConfig

    if is_molecule(system):
        names = {name: name for name in ("ns", "exchange_ps", "platform", "features")}
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
    options = _set({api: getattr(settings, key) for key, api in names.items()})
    return cls(settings.temperatures, **options, seed=settings.seed)


def simulate_system(
    system_name: str,
    settings: Any,
    target: str | Path,
    *,
    progress: bool = True,
    dcd: bool = False,
) -> SimulationResult:
    """Run replica exchange of ``system_name`` with resolved ``settings``
    (:class:`~thermogen.workflow.SimulateSettings`: a ladder and a seed at least), writing
    ``target.npz`` and its run record (and, for molecules, the store ``target.nc`` and with
    ``dcd`` one DCD per temperature)."""
    from ..simulate import run_openmm_remd, run_remd
    from ..systems import build_molecule, get_system

    target = Path(target)
    config = remd_config(system_name, settings)
    if not is_molecule(system_name):
        system = get_system(system_name)
        result = run_remd(system, config, progress=progress)
        data_path, record = result.save(target.with_suffix(".npz"), system.name)
        written = f"wrote {result.dataset.n_frames} frames to {data_path} (run record: {record})"
        return SimulationResult(result.dataset, data_path, record, result.summary(), written)
    overrides = {"timestep_ps": settings.timestep, "collision_rate_per_ps": settings.friction}
    molecule = dataclasses.replace(molecule_settings(system_name), **_set(overrides))
    built = build_molecule(molecule, source=system_file(system_name))
    result = run_openmm_remd(
        built,
        config,
        target.with_suffix(".nc"),
        progress=progress,
        overwrite=bool(settings.overwrite),
    )
    data_path, record = result.save(target.with_suffix(".npz"), dcd=dcd)
    written = (
        f"wrote {result.dataset.n_frames} frames ({result.iterations} per replica) to "
        f"{data_path} (run record: {record}; trajectory store: {result.store})"
    )
    return SimulationResult(result.dataset, data_path, record, result.summary(), written)
