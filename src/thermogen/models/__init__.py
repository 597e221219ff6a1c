"""Generative models: each fits on a dataset and returns a fitted model that samples."""

from __future__ import annotations

from .diffusion import DiffusionConfig, DiffusionModel

__all__ = ["MODEL_CONFIGS", "DiffusionConfig", "DiffusionModel", "load_model"]

MODEL_CONFIGS = {"diffusion": DiffusionConfig}
"""The settings dataclass of each model, by the name used on the command line."""


def load_model(run_dir):
    """The fitted model saved in a run folder."""
    return DiffusionModel.load(run_dir)
