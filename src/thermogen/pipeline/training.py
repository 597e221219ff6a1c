"""Training a model of any registered kind into a run folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..data.dataset import MultiTempDataset
from ..models import Model, model_class

__all__ = ["TrainResult", "train_model"]


@dataclass(frozen=True)
class TrainResult:
    """A fitted model and the run folder it was written to.

    Attributes
    ----------
    model
        The fitted model.
    run_dir
        Its run folder (record ``config.json``, log, checkpoints, ``model.pt``).
    data
        The training data.
    """

    model: Model
    run_dir: Path
    data: MultiTempDataset

    def summary(self) -> str:
        """What ``thermogen train`` prints."""
        return (
            f"trained {self.model.kind} on {self.data.n_frames} frames at "
            f"{len(self.data.temperatures)} temperatures: {self.model.fit_summary()}\n"
            f"run folder: {self.run_dir}"
        )


def train_model(
    data: MultiTempDataset,
    kind: str,
    run_dir: str | Path,
    config: Any = None,
    *,
    seed: int | None = None,
    device: str | None = None,
    resume: bool = False,
    progress: bool = True,
) -> TrainResult:
    """Fit a ``kind`` model on ``data`` into ``run_dir``.

    Parameters
    ----------
    data
        The training frames.
    kind
        A registered model kind (``diffusion``, ``spib``, ``latf``, ...).
    run_dir
        The run folder to write.
    config
        The model's settings (default: the kind's defaults).
    seed
        Seeds every training stage (overrides the config's seeds).
    device
        Puts every training stage on this device (overrides the config's).
    resume
        Continue a killed training from the run folder's checkpoints.
    progress
        Show progress bars.
    """
    cls = model_class(kind)
    config = cls.config_class() if config is None else config
    if seed is not None:
        config = cls.with_seed(config, seed)
    if device is not None:
        config = cls.with_device(config, device)
    if resume:
        cls.require("resume", config)
    model = cls.fit(data, config, run_dir=run_dir, resume=resume, progress=progress)
    return TrainResult(model, Path(run_dir), data)
