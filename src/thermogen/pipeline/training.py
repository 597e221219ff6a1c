"""Training a model of any registered kind into a run folder."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..data.dataset import MultiTempDataset
from ..errors import UsageError
from ..models import Model, model_class
from ..models.run_lock import holds_run, locked, replace_folder, sweep_temporary

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
    overwrite: bool = False,
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
    overwrite
        Replace the run already in ``run_dir``: the new run is trained beside it and swapped in
        only when it has finished, so the folder always holds one consistent run.
    progress
        Show progress bars.

    Raises
    ------
    UsageError
        ``run_dir`` holds a run and neither ``resume`` nor ``overwrite`` is given (or both are),
        or another process is writing it.
    """
    cls = model_class(kind)
    config = cls.config_class() if config is None else config
    if seed is not None:
        config = cls.with_seed(config, seed)
    if device is not None:
        config = cls.with_device(config, device)
    if resume:
        cls.require("resume", config)
    run_dir = Path(run_dir)
    with locked(run_dir):
        sweep_temporary(run_dir)
        replacing = _check_existing(run_dir, resume, overwrite)
        target = run_dir.with_name(f".{run_dir.name}.new") if replacing else run_dir
        if replacing:
            shutil.rmtree(target, ignore_errors=True)
        model = cls.fit(data, config, run_dir=target, resume=resume, progress=progress)
        if replacing:
            replace_folder(run_dir, target)
    return TrainResult(model, run_dir, data)


def _check_existing(run_dir: Path, resume: bool, overwrite: bool) -> bool:
    """Whether the run is trained beside an existing one and swapped in (``overwrite``);
    refuses an existing run without ``resume`` or ``overwrite``."""
    if resume and overwrite:
        raise UsageError(
            "--resume continues the run in the folder, --overwrite replaces it: choose one"
        )
    exists = holds_run(run_dir)
    if exists and not (resume or overwrite):
        raise UsageError(
            f"{run_dir} holds a training run already: --resume to continue it, --overwrite to "
            "replace it (the old run stays until the new one has finished), or choose another --out"
        )
    return exists and overwrite
