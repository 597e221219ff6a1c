"""Generative models: each fits on a dataset and returns a fitted model that samples.

Importing this package sets torch to ``THERMOGEN_TORCH_THREADS`` CPU threads (default 1) for
sampling, encoding and density evaluation: these small networks run 10-30x slower with several
threads on small machines. Training uses its config's ``threads`` (also 1 by default).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from ..errors import InputError
from .diffusion import DiffusionConfig, DiffusionModel
from .latf import LaTFConfig, LaTFModel
from .persistence import model_kind
from .runs import TRAINING_STAGES, fit_run, fit_summary, save_run, training_seed, with_seed
from .spib import SPIBConfig, SPIBModel

__all__ = [
    "MODEL_CLASSES",
    "MODEL_CONFIGS",
    "TRAINING_STAGES",
    "DiffusionConfig",
    "DiffusionModel",
    "LaTFConfig",
    "LaTFModel",
    "SPIBConfig",
    "SPIBModel",
    "fit_run",
    "fit_summary",
    "load_model",
    "model_kind",
    "save_run",
    "training_seed",
    "with_seed",
]

TORCH_THREADS_ENV = "THERMOGEN_TORCH_THREADS"
"""Environment variable with the number of torch CPU threads thermogen sets on import."""


def _torch_threads() -> int:
    value = os.environ.get(TORCH_THREADS_ENV, "1")
    if not value.isdigit() or int(value) < 1:
        raise InputError(TORCH_THREADS_ENV, None, f"must be a positive integer, got {value!r}")
    return int(value)


torch.set_num_threads(_torch_threads())

MODEL_CONFIGS = {"diffusion": DiffusionConfig, "spib": SPIBConfig, "latf": LaTFConfig}
"""The settings dataclass of each model, by the name used on the command line."""
MODEL_CLASSES = {"diffusion": DiffusionModel, "spib": SPIBModel, "latf": LaTFModel}
"""The model class of each kind, by the name used on the command line and in model files."""


def load_model(run_dir: str | Path) -> DiffusionModel | SPIBModel | LaTFModel:
    """The fitted model saved in a run folder, of whichever kind ``run_dir/model.pt`` holds.

    Raises
    ------
    InputError
        One line naming the file, for a missing folder or model, a damaged file, or a kind
        this version of thermogen does not know.
    """
    kind = model_kind(run_dir)
    if kind not in MODEL_CLASSES:
        raise InputError(
            Path(run_dir) / "model.pt",
            "kind",
            f"is {kind!r}; this thermogen reads {', '.join(MODEL_CLASSES)} models",
        )
    return MODEL_CLASSES[kind].load(run_dir)
