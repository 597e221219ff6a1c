"""Generative models: each fits on a dataset and returns a fitted model that samples."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from .diffusion import DiffusionConfig, DiffusionModel
from .latf import LaTFConfig, LaTFModel
from .persistence import model_kind
from .spib import SPIBConfig, SPIBModel

__all__ = [
    "MODEL_CLASSES",
    "MODEL_CONFIGS",
    "DiffusionConfig",
    "DiffusionModel",
    "LaTFConfig",
    "LaTFModel",
    "SPIBConfig",
    "SPIBModel",
    "load_model",
    "model_kind",
]

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
