"""Checking a :class:`WorkflowConfig` and filling its defaults (ladders, seeds) before a run."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from ..errors import InputError, UsageError
from ..pipeline.simulation import is_molecule, molecule_settings, remd_config, system_file
from .schema import DataSettings, SampleSettings, SimulateSettings, WorkflowConfig
from .steps import SAMPLE_OPTIONS

_ANALYTIC_ONLY = ("chains", "steps", "equilibration", "stride", "swap_interval")
_MOLECULE_ONLY = ("ns", "exchange_ps", "platform", "overwrite", "features")
"""``simulate`` settings that only one kind of system takes."""

_REFERENCE_KINDS = ("reference", "exact")


def check_and_resolve(config: WorkflowConfig) -> WorkflowConfig:
    """``config`` checked, with every section's defaults (ladder, seeds) filled in."""
    _check_sources(config)
    _check_model_steps(config)
    return dataclasses.replace(
        config,
        simulate=_resolve_simulate(config),
        data=resolve_data(config),
        sample=_resolve_sample(config),
        report=_with_defaults(config.report, config, "report"),
    )


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
    data = config.data
    inputs = {
        "system": system_file(config.system) if config.system else None,
        "data": data.path if isinstance(data, DataSettings) else data,
        "report.reference": config.report.reference,
    }
    for key, path in inputs.items():
        if path is not None and not Path(path).is_file():
            raise InputError(source, key, f"file not found: {path}")
    out = Path(config.out)
    if out.exists() and not out.is_dir():
        raise InputError(source, "out", f"is a file, not a folder: {out}")


def _check_model_steps(config: WorkflowConfig) -> None:
    """Refuse sample and report settings the model cannot use (by its capabilities)."""
    from ..models import kinds_with, model_class
    from ..models.protocol import CONFIGURATIONS, SAMPLE

    cls, source = model_class(config.model.kind), config.source
    can = cls.capabilities_for(config.model.config)
    if SAMPLE not in can and config.sample is not None:
        others = " or ".join(kinds_with(SAMPLE))
        raise InputError(
            source, "sample", f"{cls.lacks(SAMPLE)} and cannot sample; use model.kind {others}"
        )
    if CONFIGURATIONS not in can and config.report.temperatures is not None:
        raise InputError(
            source,
            "report.temperatures",
            f"are for models that generate configurations; a {cls.kind} report shows "
            "populations over the data's range",
        )
    if config.sample is not None:
        refused = tuple(name for name in SAMPLE_OPTIONS if name not in cls.sample_options)
        note = f" ({cls.sample_note})" if cls.sample_note else ""
        _refuse_set(
            config.sample,
            refused,
            source,
            "sample",
            f"is not a sampling option of a {cls.kind} model{note}",
        )
    if config.report.reference_kind not in _REFERENCE_KINDS:
        raise InputError(
            source,
            "report.reference_kind",
            f"must be one of {', '.join(_REFERENCE_KINDS)}, got {config.report.reference_kind!r}",
        )
    minimums = [("report.n_samples", config.report.n_samples, 10)]
    if config.sample is not None:
        minimums.append(("sample.n", config.sample.n, 1))
    for key, value, minimum in minimums:
        if value < minimum:
            raise InputError(source, key, f"must be at least {minimum}, got {value}")


def _refuse_set(
    settings: Any, names: tuple[str, ...], source: str, section: str, problem: str
) -> None:
    """Raise for the first of ``names`` that ``settings`` (the ``section`` key) sets."""
    for name in names:
        if getattr(settings, name) is not None:
            raise InputError(source, f"{section}.{name}", problem)


def _ladder(text: str) -> tuple[float, ...]:
    """A temperature ladder (a list or ``"TMIN:TMAX:N"``) as an ascending tuple of floats."""
    from ..simulate import parse_temperatures

    return tuple(float(t) for t in parse_temperatures(text))


def _temperatures(
    value: tuple[float, ...] | str | None, source: str, key: str
) -> tuple[float, ...] | None:
    """A temperature setting as an ascending tuple (None stays None)."""
    if value is None:
        return None
    text = value if isinstance(value, str) else ",".join(repr(float(t)) for t in value)
    try:
        return _ladder(text)
    except ValueError as err:
        raise InputError(source, key, str(err)) from None


def _with_defaults(settings: Any, config: WorkflowConfig, section: str) -> Any:
    """``settings`` with its temperatures checked and sorted and the top-level seed filled in."""
    return dataclasses.replace(
        settings,
        temperatures=_temperatures(settings.temperatures, config.source, f"{section}.temperatures"),
        seed=config.seed if settings.seed is None else settings.seed,
    )


def _resolve_simulate(config: WorkflowConfig) -> SimulateSettings | None:
    """``simulate`` with the system's ladder and the seed filled in, checked by building it."""
    if config.system is None:
        return None
    source = config.source
    settings = config.simulate or SimulateSettings()
    molecule = is_molecule(config.system)
    _refuse_set(
        settings,
        _ANALYTIC_ONLY if molecule else _MOLECULE_ONLY,
        source,
        "simulate",
        f"is a setting for {'the analytic systems' if molecule else 'molecules'} only",
    )
    settings = _with_defaults(settings, config, "simulate")
    if settings.temperatures is None:
        settings = dataclasses.replace(
            settings, temperatures=_default_ladder(config.system, source)
        )
    try:
        remd_config(config.system, settings)
        if molecule:
            molecule_settings(config.system)
    except (ValueError, UsageError) as err:
        if isinstance(err, InputError):
            raise
        raise InputError(source, "simulate", str(err)) from None
    return settings


def _default_ladder(system: str, source: str) -> tuple[float, ...]:
    """The ladder ``thermogen simulate`` uses when none is given."""
    from ..simulate import DEFAULT_LADDER
    from ..systems import get_system

    if is_molecule(system):
        return _ladder(DEFAULT_LADDER)
    try:
        return tuple(get_system(system).default_temperatures)
    except KeyError as err:
        raise InputError(source, "system", str(err).strip("'\"")) from None


def resolve_data(config: WorkflowConfig) -> DataSettings | None:
    """``data`` as :class:`DataSettings` (a file name becomes its ``path``)."""
    data = config.data
    return DataSettings(data) if isinstance(data, str) else data


def _resolve_sample(config: WorkflowConfig) -> SampleSettings | None:
    """``sample`` with its defaults (None for models that cannot sample)."""
    from ..models import model_class
    from ..models.protocol import SAMPLE

    if SAMPLE not in model_class(config.model.kind).capabilities_for(config.model.config):
        return None
    return _with_defaults(config.sample or SampleSettings(), config, "sample")
