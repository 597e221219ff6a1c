"""The settings of a workflow file: one frozen dataclass per section, and :data:`SCHEMA_HELP`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import UsageError

SCHEMA_HELP = """\
config file (YAML); every section optional except a source of frames (system or data):
  system: mueller-brown     # analytic: mueller-brown, double-well, three-hole, two-state, lj7
                            # (reduced units, k_B = 1); molecules (K, kJ/mol): alanine-dipeptide,
                            # alanine-dipeptide-implicit, or a molecule settings FILE.yaml
  simulate:                 # replica exchange, as 'thermogen simulate' (null: its defaults)
    temperatures: [1.0, 1.587, 2.52, 4.0]   # or a quoted ladder 'TMIN:TMAX:N'
    chains: 64              # analytic systems: chains, steps, equilibration, stride,
    steps: 20000            #   swap_interval (Langevin steps)
    # ns: 5                 # molecules: ns per replica, exchange_ps, platform, overwrite
    # timestep, friction    # Langevin (ps and 1/ps for molecules); seed
  # data: frames.npz        # instead of system: an .npz/.csv dataset, or a mapping
                            # {path, temperature_unit, energy_unit, periodic} for CSV files
  model:
    kind: diffusion         # diffusion, latf or spib; the other keys are that model's
    train: {steps: 2500}    # config (as 'thermogen train --config'), e.g. width, spib.lag
  sample:                   # diffusion and latf: n per temperature at temperatures (default:
    n: 1000                 # the report's, else the trained ones); at_trained: also at the
    temperatures: [0.8, 2]  # trained ones; diffusion: sampler, steps, device; seed
  report:                   # temperatures (diffusion: new ones compared with MBAR),
    temperatures: [0.8, 2]  # reference (a dataset to compare with), n_samples, device, seed
  out: runs/my-run          # output folder (relative to the current directory)
  seed: 0                   # seeds every step that does not set its own
Input files are relative to the config file, overrides (KEY=VALUE) to the current directory.
out/ receives run.yaml (the resolved config), run.json (seed, versions, timings), data.npz
(when simulated), model/, samples.npz and report.html.
"""
"""The schema of a workflow file, annotated (the epilog of ``thermogen run --help``)."""


@dataclass(frozen=True)
class SimulateSettings:
    """Replica-exchange settings (``simulate:``), named as ``thermogen simulate``'s options.

    None takes the default of ``thermogen simulate``.

    Attributes
    ----------
    temperatures
        Ladder: a list, or a ``"TMIN:TMAX:N"`` geometric ladder (K for molecules, default
        300:600:8; reduced units for analytic systems, default the system's ladder).
    chains, steps, equilibration, stride, swap_interval
        Analytic systems: independent REMD chains, production and discarded Langevin steps,
        steps between frames and between swap attempts.
    ns, exchange_ps, platform, overwrite, features
        Molecules: ns per replica, ps between swaps, OpenMM platform, restart an existing store,
        features of the dataset (default ``phi,psi``; ``internal`` for whole structures).
    timestep, friction
        Langevin time step (ps for molecules) and friction (1/ps for molecules).
    seed
        Seed of the simulation (default: the top-level ``seed``).
    """

    temperatures: tuple[float, ...] | str | None = None
    chains: int | None = None
    steps: int | None = None
    equilibration: int | None = None
    stride: int | None = None
    swap_interval: int | None = None
    ns: float | None = None
    exchange_ps: float | None = None
    platform: str | None = None
    overwrite: bool | None = None
    features: str | None = None
    timestep: float | None = None
    friction: float | None = None
    seed: int | None = None


@dataclass(frozen=True)
class DataSettings:
    """An existing dataset to train on (``data:``, a file name or this mapping).

    Attributes
    ----------
    path
        ``.npz`` or ``.csv`` file (see docs/data.md's dataset format).
    temperature_unit, energy_unit, periodic
        CSV only: units of the temperature (``K`` or ``reduced``) and energy columns, and the
        feature columns that are angles in radians.
    """

    path: str
    temperature_unit: str | None = None
    energy_unit: str | None = None
    periodic: tuple[str, ...] | None = None

    def load_options(self) -> dict[str, Any]:
        """The CSV options that are set, as :func:`~thermogen.data.load_dataset` keywords."""
        return set_options(
            {
                "temperature_unit": self.temperature_unit,
                "energy_unit": self.energy_unit,
                "periodic": self.periodic,
            }
        )


@dataclass(frozen=True)
class ModelSettings:
    """The model (``model:``): ``kind`` plus the keys of that model's config dataclass.

    Attributes
    ----------
    kind
        ``"diffusion"``, ``"latf"`` or ``"spib"``.
    config
        A :class:`~thermogen.models.DiffusionConfig`, :class:`~thermogen.models.LaTFConfig` or
        :class:`~thermogen.models.SPIBConfig` (``None``: that kind's defaults).
    """

    kind: str = "diffusion"
    config: Any = None

    def __post_init__(self) -> None:
        from ..models import MODEL_CONFIGS

        if self.kind not in MODEL_CONFIGS:
            raise UsageError(f"kind must be one of {', '.join(MODEL_CONFIGS)}, got {self.kind!r}")
        if self.config is None:
            object.__setattr__(self, "config", MODEL_CONFIGS[self.kind]())
        if not isinstance(self.config, MODEL_CONFIGS[self.kind]):
            raise UsageError(f"a {self.kind} model takes a {MODEL_CONFIGS[self.kind].__name__}")


@dataclass(frozen=True)
class SampleSettings:
    """Generation after training (``sample:``; diffusion and latf models).

    Attributes
    ----------
    temperatures
        Where to sample, in the data's unit (default: the report's temperatures, else the
        training temperatures).
    n
        Samples per temperature.
    sampler, steps, device
        Diffusion only: sampler (``ode``, ``heun``, ``ddim``, ``ddpm``), network calls per
        sample, device (as ``thermogen sample``).
    at_trained
        Also sample at the training temperatures (after the others, so the samples at
        ``temperatures`` stay what they would be alone): the report then compares them with the
        data. The report shows exactly the samples written, so without this it has no
        generated-vs-data comparison at the trained temperatures.
    seed
        Seed of the samples (default: the top-level ``seed``).
    """

    temperatures: tuple[float, ...] | str | None = None
    n: int = 1000
    at_trained: bool = False
    sampler: str | None = None
    steps: int | None = None
    device: str | None = None
    seed: int | None = None


@dataclass(frozen=True)
class ReportSettings:
    """The HTML report (``report:``), as ``thermogen report`` takes it.

    Attributes
    ----------
    temperatures
        New temperatures compared with MBAR (diffusion runs only; the data's unit).
    reference
        A dataset to compare with (e.g. a long simulation at the new temperatures).
    reference_kind
        ``"reference"`` (simulation frames) or ``"exact"`` (drawn from the exact density): how
        the reference is labelled.
    n_samples, device
        Frames per temperature and device of samples the report would draw itself (at least
        10; ``cpu``, ``cuda`` or ``auto``), as ``thermogen report --samples --device``. A
        workflow's report shows the sample step's ``samples.npz`` instead, so these are kept
        for configs that name them but not used there.
    seed
        Seed of the report's data subsampling and noise floors (default: the top-level
        ``seed``).
    """

    temperatures: tuple[float, ...] | str | None = None
    reference: str | None = None
    reference_kind: str = "reference"
    n_samples: int = 2000
    device: str = "cpu"
    seed: int | None = None


@dataclass(frozen=True)
class WorkflowConfig:
    """A whole run: where the frames come from, the model, sampling, the report, the output.

    Build it with :func:`load_workflow_config` (a YAML file) or
    :func:`workflow_config_from_mapping` (a dict): they check everything and fill the defaults
    (seeds, temperatures) so that the config describes the run completely.

    Attributes
    ----------
    system
        Built-in system to simulate (``mueller-brown``, ``two-state``, ``alanine-dipeptide``,
        ...) or a molecule settings ``.yaml`` file; goes with ``simulate``.
    simulate
        Replica-exchange settings.
    data
        An existing dataset instead of a simulation.
    model, sample, report
        The model, generation (None for spib models, which cannot sample) and the report.
    out
        Output folder.
    seed
        Seed of every step that does not set its own.
    source
        The config file (named in error messages).
    """

    system: str | None = None
    simulate: SimulateSettings | None = None
    data: str | DataSettings | None = None
    model: ModelSettings = field(default_factory=ModelSettings)
    sample: SampleSettings | None = None
    report: ReportSettings = field(default_factory=ReportSettings)
    out: str = "thermogen_run"
    seed: int = 0
    source: str = field(default="<memory>", compare=False)


def set_options(options: dict[str, Any]) -> dict[str, Any]:
    """The entries of ``options`` that are set (not None)."""
    return {key: value for key, value in options.items() if value is not None}
