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

Modules: :mod:`.schema` (the settings), :mod:`.loading` (file, overrides, paths),
:mod:`.validation` (checks and defaults), :mod:`.steps` (each step) and :mod:`.runner`.
"""

from __future__ import annotations

from .loading import load_workflow_config, workflow_config_from_mapping, workflow_config_to_mapping
from .runner import WorkflowResult, run_workflow
from .schema import (
    SCHEMA_HELP,
    DataSettings,
    ModelSettings,
    ReportSettings,
    SampleSettings,
    SimulateSettings,
    WorkflowConfig,
)

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
