"""The pipeline: each step of thermogen once, as the command line, ``thermogen run`` and the
demos all call it.

Every step takes data or a run folder, writes its outputs with a run record beside them, and
returns a result whose ``summary()`` is what the command line prints:

- :func:`train_model`: a model of any registered kind into a run folder;
- :func:`sample_model`: samples at any temperatures (``samples.npz`` and its record);
- :func:`transform_data`: learned collective variables and states of frames;
- :func:`melt_model`: state populations with intervals and the van 't Hoff melting curve.
- :func:`simulate_system`: replica exchange of an analytic system or a molecule;
- :func:`report_run`: the self-contained HTML report of a run.

Each checks up front that the model has the capability it needs
(:func:`thermogen.models.load_run`), with one line naming the kind and what is missing.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "CONFIDENCE": "melting",
    "MeltResult": "melting",
    "melt_model": "melting",
    "SampleResult": "generation",
    "TransformResult": "generation",
    "sample_model": "generation",
    "transform_data": "generation",
    "SimulationResult": "simulation",
    "simulate_system": "simulation",
    "ReportResult": "reporting",
    "report_run": "reporting",
    "TrainResult": "training",
    "train_model": "training",
}
"""The submodule of each name: imported on first use, so that importing the pipeline (as the
workflow's settings do) does not import torch."""

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
