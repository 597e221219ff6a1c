"""The pipeline: each step of thermogen once, as the command line, ``thermogen run`` and the
demos all call it.

Every step takes data or a run folder, writes its outputs with a run record beside them, and
returns a result whose ``summary()`` is what the command line prints:

- :func:`train_model`: a model of any registered kind into a run folder;
- :func:`sample_model`: samples at any temperatures (``samples.npz`` and its record);
- :func:`transform_data`: learned collective variables and states of frames;
- :func:`melt_model`: state populations with intervals and the van 't Hoff melting curve.

Each checks up front that the model has the capability it needs
(:func:`thermogen.models.load_run`), with one line naming the kind and what is missing.
"""

from __future__ import annotations

from .generation import SampleResult, TransformResult, sample_model, transform_data
from .melting import CONFIDENCE, MeltResult, melt_model
from .training import TrainResult, train_model

__all__ = [
    "CONFIDENCE",
    "MeltResult",
    "SampleResult",
    "TrainResult",
    "TransformResult",
    "melt_model",
    "sample_model",
    "train_model",
    "transform_data",
]
