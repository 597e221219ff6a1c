"""Generative models, all in one protocol (:mod:`.protocol`) and found by kind in one registry
(:mod:`.registry`): each fits on a dataset and returns a fitted model.

Importing this package changes no global state: torch's thread count is set inside each fit,
sample, encode and density call (:mod:`thermogen.threads`) and restored afterwards.
"""

from __future__ import annotations

from .diffusion import DiffusionConfig, DiffusionModel
from .latf import LaTFConfig, LaTFModel
from .persistence import model_kind
from .protocol import CAPABILITIES, DataSpec, Model
from .registry import (
    MODEL_CLASSES,
    MODEL_CONFIGS,
    kinds_with,
    load_model,
    load_run,
    model_class,
    register,
)
from .run_dir import RunDir
from .spib import SPIBConfig, SPIBModel

__all__ = [
    "CAPABILITIES",
    "MODEL_CLASSES",
    "MODEL_CONFIGS",
    "DataSpec",
    "DiffusionConfig",
    "DiffusionModel",
    "LaTFConfig",
    "LaTFModel",
    "Model",
    "RunDir",
    "SPIBConfig",
    "SPIBModel",
    "kinds_with",
    "load_model",
    "load_run",
    "model_class",
    "model_kind",
    "register",
]
