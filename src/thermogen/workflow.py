"""One YAML file drives the whole pipeline: simulate or import -> train -> sample -> report.

``thermogen run CONFIG.yaml [key=value ...]`` and a notebook call the same two functions::

    from thermogen.workflow import load_workflow_config, run_workflow

    config = load_workflow_config("examples/mueller-brown-diffusion.yaml", ["model.train.steps=200"])
    result = run_workflow(config)
    print(result.summary())

The file's sections, annotated, are in :data:`SCHEMA_HELP` (also printed by ``thermogen run
--help``); :class:`WorkflowConfig` and its section classes document every key.

Units: temperatures in K for molecules and molecular data, reduced (k_B T, an energy) for the
analytic systems; ``simulate.ns`` in ns and ``simulate.exchange_ps`` in ps. Input files
(``data``, ``report.reference``, a molecule ``system`` file) are relative to the config file's
folder; values given as ``key=value`` overrides, and ``out``, are relative to the current
directory. Every key, type, value and input file is checked before any step starts; a mistake
raises :class:`~thermogen.errors.InputError` naming the dotted key and the config file (or the
command line).
"""

from __future__ import annotations

import copy
import dataclasses
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from .config import dataclass_from_mapping, load_yaml_mapping
from .errors import InputError, UsageError
from .fileio import atomic_write, write_npz

__all__ = [
    "SCHEMA_HELP",
    "DataSettings",
    "ModelSettings",
    "ReportSettings",
    "SampleSettings",
    "SimulateSettings",
    "WorkflowConfig",
    "WorkflowResult",
    "load_workflow_config",
    "run_workflow",
    "workflow_config_from_mapping",
    "workflow_config_to_mapping",
]

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
    n: 1000                 # the report's, else the trained ones); diffusion: sampler, steps,
    temperatures: [0.8, 2]  # device; seed
  report:                   # temperatures (diffusion: new ones compared with MBAR),
    temperatures: [0.8, 2]  # reference (a dataset to compare with), n_samples, device, seed
  out: runs/my-run          # output folder (relative to the current directory)
  seed: 0                   # seeds every step that does not set its own
Input files are relative to the config file, overrides (KEY=VALUE) to the current directory.
out/ receives run.yaml (the resolved config), run.json (seed, versions, timings), data.npz
(when simulated), model/, samples.npz and report.html.
"""
"""The schema of a workflow file, annotated (the epilog of ``thermogen run --help``)."""

_ANALYTIC_ONLY = ("chains", "steps", "equilibration", "stride", "swap_interval")
_MOLECULE_ONLY = ("ns", "exchange_ps", "platform", "overwrite")
"""``simulate`` settings that only one kind of system takes."""
_DIFFUSION_ONLY_SAMPLE = ("sampler", "steps", "device")
"""``sample`` settings of diffusion runs (a latf run samples its flow exactly)."""
_PATH_KEYS = ("system", "data", "data.path", "report.reference")
"""Dotted keys holding input files (``system`` only when it names a .yaml file)."""
_TEMPERATURE_KEYS = ("simulate.temperatures", "sample.temperatures", "report.temperatures")
_SOURCE_KEYS = ("system", "simulate", "data")
"""Keys that together say where the frames come from (one error may concern any of them)."""
_COMMAND_LINE = "command line"
_REFERENCE_KINDS = ("reference", "exact")


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
    ns, exchange_ps, platform, overwrite
        Molecules: ns per replica, ps between swaps, OpenMM platform, restart an existing store.
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
    timestep: float | None = None
    friction: float | None = None
    seed: int | None = None


@dataclass(frozen=True)
class DataSettings:
    """An existing dataset to train on (``data:``, a file name or this mapping).

    Attributes
    ----------
    path
        ``.npz`` or ``.csv`` file (see the README's dataset format).
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
        options = {
            "temperature_unit": self.temperature_unit,
            "energy_unit": self.energy_unit,
            "periodic": self.periodic,
        }
        return {key: value for key, value in options.items() if value is not None}


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
        from .models import MODEL_CONFIGS

        if self.kind not in MODEL_CONFIGS:
            raise ValueError(f"kind must be one of {', '.join(MODEL_CONFIGS)}, got {self.kind!r}")
        if self.config is None:
            object.__setattr__(self, "config", MODEL_CONFIGS[self.kind]())
        if not isinstance(self.config, MODEL_CONFIGS[self.kind]):
            raise ValueError(f"a {self.kind} model takes a {MODEL_CONFIGS[self.kind].__name__}")


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
    seed
        Seed of the samples (default: the top-level ``seed``).
    """

    temperatures: tuple[float, ...] | str | None = None
    n: int = 1000
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
    n_samples
        Generated frames per temperature in the report (at least 10).
    device
        Where the model samples: ``cpu``, ``cuda`` or ``auto``.
    seed
        Seed of the report's samples (default: the top-level ``seed``).
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


@dataclass(frozen=True)
class WorkflowResult:
    """What :func:`run_workflow` wrote.

    Attributes
    ----------
    out_dir
        The output folder.
    config
        ``run.yaml``: the resolved config (loads back to the same run).
    record
        ``run.json``: settings, seed, versions, timings and paths.
    data
        The training data (``data.npz`` when simulated, else the imported file).
    run_dir
        The model's run folder.
    samples
        ``samples.npz`` (None for spib models).
    report
        ``report.html``.
    timings
        Wall seconds of each step and in total.
    """

    out_dir: Path
    config: Path
    record: Path
    data: Path
    run_dir: Path
    samples: Path | None
    report: Path
    timings: dict[str, float]

    def summary(self) -> str:
        """A few lines: the files written and the time each step took."""
        steps = ", ".join(f"{k} {v:.0f} s" for k, v in self.timings.items() if k != "total")
        lines = [
            f"done in {self.timings['total']:.0f} s ({steps})",
            f"data:       {self.data}",
            f"model run:  {self.run_dir}",
        ]
        if self.samples is not None:
            lines.append(f"samples:    {self.samples}")
        lines += [f"config:     {self.config}", f"run record: {self.record}"]
        lines.append(f"report:     {self.report}")
        return "\n".join(lines)


# ---------------------------------------------------------------------------- loading
def load_workflow_config(path: str | Path, overrides: Sequence[str] = ()) -> WorkflowConfig:
    """Read and check a workflow YAML file, with ``key=value`` overrides applied first.

    Parameters
    ----------
    path
        The YAML file.
    overrides
        ``"model.train.steps=200"``-style settings; values are read as YAML (``[1, 2]`` is a
        list, ``null`` empties a setting) and replace the file's by dotted key.

    Raises
    ------
    InputError
        One line naming the key and the file (or the command line) for an unknown key, a
        wrong type or value, a missing input file, or settings that do not go together.
    """
    path = Path(path)
    return workflow_config_from_mapping(
        load_yaml_mapping(path), source=path, overrides=overrides, base_dir=path.parent
    )


def workflow_config_from_mapping(
    data: dict[str, Any],
    source: str | Path = "<memory>",
    overrides: Sequence[str] = (),
    base_dir: str | Path | None = None,
) -> WorkflowConfig:
    """The checked, fully resolved :class:`WorkflowConfig` of a mapping (a parsed YAML file).

    Parameters
    ----------
    data
        Settings by section, as in the YAML file.
    source
        Named in error messages.
    overrides
        ``key=value`` strings applied to ``data`` before checking.
    base_dir
        Folder that input files in ``data`` are relative to (default: the current directory).
    """
    raw = copy.deepcopy(data)
    _resolve_paths(raw, Path(base_dir) if base_dir is not None else Path.cwd())
    changed: list[str] = []
    for text in overrides:
        key, value = _parse_override(text)
        _set_dotted(raw, key, value)
        changed.append(key)
        if key in _PATH_KEYS:
            _resolve_paths(raw, Path.cwd(), only=key)
    try:
        return _build(raw, str(source))
    except InputError as err:
        where = err.field or ""
        by_hand = any(
            where == key
            or where.startswith((f"{key}.", f"{key}["))
            or key.startswith(f"{where}.")
            or (where in _SOURCE_KEYS and key.split(".")[0] in _SOURCE_KEYS)
            for key in changed
        )
        if not by_hand:
            raise
        raise InputError(f"{_COMMAND_LINE} (overriding {source})", err.field, err.problem) from None


def _parse_override(text: str) -> tuple[str, Any]:
    """``"a.b=VALUE"`` as the key and the value read as YAML (``1:5:4`` stays text)."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not re.fullmatch(r"[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*", key):
        raise InputError(
            _COMMAND_LINE, None, f"{text!r} is not KEY=VALUE (e.g. model.train.steps=200)"
        )
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        parsed = value
    if ":" in value and isinstance(parsed, int | float):
        parsed = value  # a ladder TMIN:TMAX:N, not YAML 1.1's base-60 number
    return key, parsed


def _set_dotted(raw: dict[str, Any], key: str, value: Any) -> None:
    """Set ``raw[a][b] = value`` for ``key = "a.b"``, creating missing sections."""
    node = raw
    parts = key.split(".")
    for depth, part in enumerate(parts[:-1]):
        if node.get(part) is None:
            node[part] = {}
        if not isinstance(node[part], dict):
            where = ".".join(parts[: depth + 1])
            raise InputError(
                _COMMAND_LINE, key, f"cannot be set: '{where}' is {node[part]!r}, not a mapping"
            )
        node = node[part]
    node[parts[-1]] = value


def _get_dotted(raw: dict[str, Any], key: str) -> Any:
    """``raw[a][b]`` for ``key = "a.b"``, or None when a level is missing."""
    node: Any = raw
    for part in key.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _resolve_paths(raw: dict[str, Any], base: Path, only: str | None = None) -> None:
    """Make the input files named in ``raw`` absolute, relative ones taken from ``base``."""
    for key in _PATH_KEYS if only is None else (only,):
        value = _get_dotted(raw, key)
        if not isinstance(value, str) or not value:
            continue
        if key == "system" and Path(value).suffix.lower() not in (".yaml", ".yml"):
            continue
        _set_dotted(raw, key, os.path.abspath(base / Path(value).expanduser()))


def _build(raw: dict[str, Any], source: str) -> WorkflowConfig:
    """Check ``raw`` (after overrides) and resolve its defaults."""
    for key in _TEMPERATURE_KEYS:
        value = _get_dotted(raw, key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            raise InputError(
                source,
                key,
                f"is the number {value!r}: write a list [T1, T2, ...] or a quoted ladder "
                "'TMIN:TMAX:N' (YAML reads an unquoted 1:5:4 as a base-60 number)",
            )
    if "source" in raw:
        raise InputError(source, "source", "unknown setting (the config file is the source)")
    top = {key: value for key, value in raw.items() if key != "model"}
    config = dataclass_from_mapping(WorkflowConfig, top, source)
    model = _model_settings(raw.get("model"), config.seed, source)
    config = dataclasses.replace(config, model=model, source=source)
    _check_sources(config)
    _check_model_steps(config)
    return dataclasses.replace(
        config,
        simulate=_resolve_simulate(config),
        data=_resolve_data(config),
        sample=_resolve_sample(config),
        report=_resolve_report(config),
    )


def _model_settings(raw: Any, seed: int, source: str) -> ModelSettings:
    """``model:`` as :class:`ModelSettings`, the top-level seed filling unset model seeds."""
    from .models import MODEL_CONFIGS

    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise InputError(source, "model", f"must be a mapping of settings, got {raw!r}")
    kind = raw.get("kind", "diffusion")
    if kind not in MODEL_CONFIGS:
        raise InputError(
            source, "model.kind", f"must be one of {', '.join(MODEL_CONFIGS)}, got {kind!r}"
        )
    settings = {key: value for key, value in raw.items() if key != "kind"}
    seeded = [("spib", "train"), ("joint",)] if kind == "latf" else [("train",)]
    for path in seeded:
        node = settings
        for part in path:
            if node.get(part) is None:
                node[part] = {}
            node = node[part]
            if not isinstance(node, dict):
                break
        else:
            node.setdefault("seed", seed)
    config = dataclass_from_mapping(MODEL_CONFIGS[kind], settings, source, "model.")
    return ModelSettings(kind, config)


def _check_sources(config: WorkflowConfig) -> None:
    """Exactly one source of frames: a simulation (``system``) or a file (``data``)."""
    source = config.source
    simulating = config.system is not None or config.simulate is not None
    if simulating and config.data is not None:
        key = "simulate" if config.simulate is not None else "system"
        raise InputError(
            source,
            key,
            "and 'data' are both given: simulate a system (system + simulate) or train on a "
            "file (data), not both",
        )
    if not simulating and config.data is None:
        raise InputError(
            source,
            None,
            "says where no frames come from: give 'system' (and 'simulate') to simulate, or "
            "'data' to train on an existing file",
        )
    if config.simulate is not None and config.system is None:
        raise InputError(source, "system", "is missing: 'simulate' needs a system to simulate")
    system_file = config.system if config.system and _is_molecule(config.system) else None
    inputs = {
        "system": None if system_file in _molecules() else system_file,
        "data": _data_path(config),
        "report.reference": config.report.reference,
    }
    for key, path in inputs.items():
        if path is not None and not Path(path).is_file():
            raise InputError(source, key, f"file not found: {path}")
    out = Path(config.out)
    if out.exists() and not out.is_dir():
        raise InputError(source, "out", f"is a file, not a folder: {out}")


def _data_path(config: WorkflowConfig) -> str | None:
    data = config.data
    return data.path if isinstance(data, DataSettings) else data


def _check_model_steps(config: WorkflowConfig) -> None:
    """Refuse sample and report settings the model kind cannot use."""
    kind, source = config.model.kind, config.source
    if kind == "spib" and config.sample is not None:
        raise InputError(
            source,
            "sample",
            "a spib model has no temperature model and cannot sample; use model.kind latf",
        )
    if kind != "diffusion" and config.report.temperatures is not None:
        raise InputError(
            source,
            "report.temperatures",
            f"are for diffusion runs; a {kind} report shows populations over the data's range",
        )
    if kind == "latf" and config.sample is not None:
        for name in _DIFFUSION_ONLY_SAMPLE:
            if getattr(config.sample, name) is not None:
                raise InputError(
                    source, f"sample.{name}", "is a diffusion setting: a latf run samples exactly"
                )
    if config.report.reference_kind not in _REFERENCE_KINDS:
        raise InputError(
            source,
            "report.reference_kind",
            f"must be one of {', '.join(_REFERENCE_KINDS)}, got {config.report.reference_kind!r}",
        )
    if config.report.n_samples < 10:
        raise InputError(
            source, "report.n_samples", f"must be at least 10, got {config.report.n_samples}"
        )
    if config.sample is not None and config.sample.n < 1:
        raise InputError(source, "sample.n", f"must be at least 1, got {config.sample.n}")


def _temperatures(value: tuple[float, ...] | str | None, source: str, key: str):
    """A temperature setting as an ascending tuple (None stays None)."""
    from .simulate import parse_temperatures

    if value is None:
        return None
    text = value if isinstance(value, str) else ",".join(repr(float(t)) for t in value)
    try:
        return tuple(float(t) for t in parse_temperatures(text))
    except ValueError as err:
        raise InputError(source, key, str(err)) from None


def _is_molecule(system: str) -> bool:
    from .systems import MOLECULES

    return system in MOLECULES or Path(system).suffix.lower() in (".yaml", ".yml")


def _resolve_simulate(config: WorkflowConfig) -> SimulateSettings | None:
    """``simulate`` with the system's ladder and the seed filled in, checked by building it."""
    if config.system is None:
        return None
    settings = config.simulate or SimulateSettings()
    source = config.source
    molecule = _is_molecule(config.system)
    refused = _ANALYTIC_ONLY if molecule else _MOLECULE_ONLY
    given = [name for name in refused if getattr(settings, name) is not None]
    if given:
        kind = "the analytic systems" if molecule else "molecules"
        raise InputError(source, f"simulate.{given[0]}", f"is a setting for {kind} only")
    temperatures = _temperatures(settings.temperatures, source, "simulate.temperatures")
    if temperatures is None:
        temperatures = _default_ladder(config.system, source)
    settings = dataclasses.replace(
        settings,
        temperatures=temperatures,
        seed=config.seed if settings.seed is None else settings.seed,
    )
    try:
        _remd_config(config.system, settings)
        if molecule and config.system not in _molecules():
            from .systems import load_molecule_config

            load_molecule_config(config.system)
    except (ValueError, UsageError) as err:
        if isinstance(err, InputError):
            raise
        raise InputError(source, "simulate", str(err)) from None
    return settings


def _molecules() -> dict[str, Any]:
    from .systems import MOLECULES

    return MOLECULES


def _default_ladder(system: str, source: str) -> tuple[float, ...]:
    """The ladder ``thermogen simulate`` uses when none is given."""
    from .simulate import DEFAULT_LADDER, parse_temperatures
    from .systems import get_system

    if _is_molecule(system):
        return tuple(float(t) for t in parse_temperatures(DEFAULT_LADDER))
    try:
        return tuple(get_system(system).default_temperatures)
    except KeyError as err:
        raise InputError(source, "system", str(err).strip("'\"")) from None


def _remd_config(system: str, settings: SimulateSettings) -> Any:
    """The :class:`REMDConfig` or :class:`OpenMMREMDConfig` of resolved ``settings``."""
    from .simulate import OpenMMREMDConfig, REMDConfig

    if _is_molecule(system):
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
    options = {api: getattr(settings, key) for key, api in names.items()}
    return cls(
        settings.temperatures,
        **{key: value for key, value in options.items() if value is not None},
        seed=settings.seed,
    )


def _resolve_data(config: WorkflowConfig) -> DataSettings | None:
    data = config.data
    return DataSettings(data) if isinstance(data, str) else data


def _resolve_sample(config: WorkflowConfig) -> SampleSettings | None:
    if config.model.kind == "spib":
        return None
    sample = config.sample or SampleSettings()
    return dataclasses.replace(
        sample,
        temperatures=_temperatures(sample.temperatures, config.source, "sample.temperatures"),
        seed=config.seed if sample.seed is None else sample.seed,
    )


def _resolve_report(config: WorkflowConfig) -> ReportSettings:
    report = config.report
    return dataclasses.replace(
        report,
        temperatures=_temperatures(report.temperatures, config.source, "report.temperatures"),
        seed=config.seed if report.seed is None else report.seed,
    )


def workflow_config_to_mapping(config: WorkflowConfig) -> dict[str, Any]:
    """``config`` as plain YAML-ready settings that load back to the same config."""
    mapping = {
        "system": config.system,
        "simulate": None if config.simulate is None else dataclasses.asdict(config.simulate),
        "data": None if config.data is None else dataclasses.asdict(_resolve_data(config)),
        "model": {"kind": config.model.kind, **config.model.config.to_dict()},
        "sample": None if config.sample is None else dataclasses.asdict(config.sample),
        "report": dataclasses.asdict(config.report),
        "out": os.path.abspath(config.out),
        "seed": config.seed,
    }
    return _plain(mapping)


def _plain(value: Any) -> Any:
    """Tuples as lists and numpy scalars as Python numbers, at any depth."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


# ---------------------------------------------------------------------------- running
def run_workflow(
    config: WorkflowConfig,
    *,
    progress: bool = True,
    log: Callable[[str], None] | None = print,
) -> WorkflowResult:
    """Run simulate-or-import, train, sample and report; write everything to ``config.out``.

    Parameters
    ----------
    config
        From :func:`load_workflow_config` or :func:`workflow_config_from_mapping`.
    progress
        Show the progress bars of each step.
    log
        Receives one line as each step starts and its short result (None: silent).

    Returns
    -------
    WorkflowResult
        The files written (``run.yaml``, ``run.json``, ``data.npz`` when simulated,
        ``model/``, ``samples.npz``, ``report.html`` and ``report_files/``) and timings.
    """
    from .provenance import run_record, write_json

    # a config built by hand is checked and resolved as a file's would be
    config = workflow_config_from_mapping(workflow_config_to_mapping(config), config.source)
    say = log or (lambda _line: None)
    out = Path(config.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(
            config.source, "out", f"cannot be created ({err.strerror or err})"
        ) from None
    settings = workflow_config_to_mapping(config)
    config_path = out / "run.yaml"
    with atomic_write(config_path) as tmp:
        tmp.write_text(yaml.safe_dump(settings, sort_keys=False))
    steps = ("simulate" if config.system else "import", "train", "sample", "report")
    if config.sample is None:
        steps = (steps[0], "train", "report")
    timings: dict[str, float] = {}
    started = time.perf_counter()

    def begin(step: str, what: str) -> None:
        say(f"[{steps.index(step) + 1}/{len(steps)}] {step}: {what}")
        timings[step] = time.perf_counter()

    def end(step: str) -> None:
        timings[step] = time.perf_counter() - timings[step]

    if config.system is not None:
        assert config.simulate is not None
        begin(steps[0], f"replica exchange of {config.system}")
        data_path, summary = _simulate(config.system, config.simulate, out / "data", progress)
        say(summary)
    else:
        assert isinstance(config.data, DataSettings)
        begin(steps[0], f"reading {config.data.path}")
        data_path = Path(config.data.path)
    from .data import describe, load_dataset

    dataset = load_dataset(data_path, **(config.data.load_options() if config.data else {}))
    end(steps[0])
    say(describe(dataset))

    run_dir = out / "model"
    begin("train", f"{config.model.kind} on {dataset.n_frames} frames")
    model, trained = _train(config.model, dataset, run_dir, progress)
    end("train")
    say(trained)

    samples = None
    sample = config.sample
    if sample is not None:
        temperatures = sample.temperatures or config.report.temperatures or dataset.temperatures
        begin("sample", f"{sample.n} per temperature at {_listed(temperatures)}")
        samples = _sample(config.model.kind, model, sample, temperatures, out / "samples", progress)
        end("sample")
        say(f"wrote {samples}")

    begin("report", "figures, metrics and warnings")
    report = _report(config.report, run_dir, dataset, out / "report.html")
    end("report")
    timings["total"] = time.perf_counter() - started
    record = write_json(
        out / "run.json",
        run_record(
            "run",
            settings,
            config.seed,
            {
                "config_file": config.source,
                "data": str(data_path),
                "n_frames": dataset.n_frames,
                "temperatures": dataset.temperatures,
                "temperature_unit": dataset.temperature_unit,
                "run_dir": str(run_dir),
                "samples": None if samples is None else str(samples),
                "report": str(report),
                "seconds": timings,
            },
        ),
    )
    return WorkflowResult(out, config_path, record, data_path, run_dir, samples, report, timings)


def _listed(temperatures: Sequence[float]) -> str:
    return ", ".join(f"{float(t):.4g}" for t in temperatures)


def _simulate(
    system_name: str, settings: SimulateSettings, target: Path, progress: bool
) -> tuple[Path, str]:
    """Run REMD as ``thermogen simulate`` does; the dataset file and the run's summary."""
    from .simulate import run_openmm_remd, run_remd
    from .systems import MOLECULES, build_molecule, get_system, load_molecule_config

    config = _remd_config(system_name, settings)
    if not _is_molecule(system_name):
        system = get_system(system_name)
        result = run_remd(system, config, progress=progress)
        data_path, _ = result.save(target.with_suffix(".npz"), system.name)
        return data_path, result.summary()
    from_file = system_name not in MOLECULES
    molecule = load_molecule_config(system_name) if from_file else MOLECULES[system_name]
    overrides = {"timestep_ps": settings.timestep, "collision_rate_per_ps": settings.friction}
    molecule = dataclasses.replace(
        molecule, **{key: value for key, value in overrides.items() if value is not None}
    )
    built = build_molecule(molecule, source=system_name if from_file else None)
    result = run_openmm_remd(
        built,
        config,
        target.with_suffix(".nc"),
        progress=progress,
        overwrite=bool(settings.overwrite),
    )
    data_path, _ = result.save(target.with_suffix(".npz"))
    return data_path, result.summary()


def _train(settings: ModelSettings, dataset: Any, run_dir: Path, progress: bool) -> tuple[Any, str]:
    """Fit the model as ``thermogen train`` does, saved to ``run_dir``; it and a result line."""
    from .models import fit_run, fit_summary

    model = fit_run(settings.kind, dataset, settings.config, run_dir, progress=progress)
    return model, fit_summary(model)


def _sample(
    kind: str,
    model: Any,
    settings: SampleSettings,
    temperatures: Sequence[float],
    target: Path,
    progress: bool,
) -> Path:
    """Generate as ``thermogen sample`` does: frames (diffusion) or latents and states (latf)."""
    from .data import save_dataset

    temps = np.asarray(temperatures, dtype=float)
    if kind == "diffusion":
        generated = model.sample(
            temps,
            settings.n,
            sampler=settings.sampler or "ode",
            steps=settings.steps,
            seed=settings.seed,
            device=settings.device or "cpu",
            progress=progress,
        )
        return save_dataset(generated, target.with_suffix(".npz"))
    return write_npz(
        target.with_suffix(".npz"), model.sample_table(temps, settings.n, settings.seed)
    )


def _report(settings: ReportSettings, run_dir: Path, dataset: Any, out: Path) -> Path:
    """Write the HTML report as ``thermogen report`` does."""
    from .report import write_report

    return write_report(
        run_dir,
        dataset,
        settings.temperatures,
        out,
        n_samples=settings.n_samples,
        seed=settings.seed if settings.seed is not None else 0,
        device=settings.device,
        reference=settings.reference,
        reference_kind=settings.reference_kind,
    )
