"""Training a model into a run folder: ``model.pt``, its run record ``config.json`` and, for the
diffusion model, ``train_log.csv`` and checkpoints.

A diffusion model writes its run folder while it trains (:meth:`DiffusionModel.fit` with
``run_dir``); SPIB and LaTF are saved when they finish (:func:`save_run`). The record holds the settings, seed, versions, the data's temperatures and
features, the states found and the training history; ``thermogen report`` reads it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from ..data.dataset import MultiTempDataset
from ..provenance import run_record, write_json
from .diffusion import DiffusionConfig, DiffusionModel
from .latf import LaTFConfig, LaTFModel
from .spib import SPIBConfig, SPIBModel

__all__ = ["TRAINING_STAGES", "fit_run", "fit_summary", "save_run", "training_seed", "with_seed"]


TRAINING_STAGES = {
    "diffusion": (("train",),),
    "spib": (("train",),),
    "latf": (("spib", "train"), ("joint",)),
}
"""Where each kind's config keeps its training stages (``TrainConfig``s, each with a ``seed``),
first stage first."""


def training_seed(config: Any, kind: str) -> int:
    """The seed of the first training stage of a ``kind`` model config."""
    stage = config
    for name in TRAINING_STAGES[kind][0]:
        stage = getattr(stage, name)
    return stage.seed


def with_seed(config: Any, kind: str, seed: int) -> Any:
    """``config`` with every training stage of a ``kind`` model seeded by ``seed``."""

    def seeded(node: Any, path: tuple[str, ...]) -> Any:
        if not path:
            return replace(node, seed=seed)
        return replace(node, **{path[0]: seeded(getattr(node, path[0]), path[1:])})

    for path in TRAINING_STAGES[kind]:
        config = seeded(config, path)
    return config


def save_run(
    model: SPIBModel | LaTFModel,
    kind: str,
    config: SPIBConfig | LaTFConfig,
    dataset: MultiTempDataset,
    run_dir: str | Path,
) -> Path:
    """Write ``run_dir/model.pt`` and ``run_dir/config.json`` of a fitted SPIB or LaTF model.

    Returns
    -------
    Path
        The run folder.
    """
    run_dir = Path(run_dir)
    model.save(run_dir)
    write_json(
        run_dir / "config.json",
        run_record(
            "train",
            {"model": kind, **config.to_dict(), "data": dataset.source},
            training_seed(config, kind),
            {
                "n_frames": dataset.n_frames,
                "temperatures": dataset.temperatures,
                "temperature_unit": dataset.temperature_unit,
                "feature_names": list(dataset.feature_names),
                "n_states": model.n_states,
                "history": list(model.history),
            },
        ),
    )
    return run_dir


def fit_run(
    kind: str,
    dataset: MultiTempDataset,
    config: DiffusionConfig | SPIBConfig | LaTFConfig,
    run_dir: str | Path,
    *,
    resume: bool = False,
    progress: bool = True,
) -> DiffusionModel | SPIBModel | LaTFModel:
    """Fit a model of ``kind`` (``diffusion``, ``spib`` or ``latf``) on ``dataset`` into ``run_dir``.

    ``resume`` continues a diffusion run from its last checkpoint (SPIB and LaTF train from the
    start).
    """
    if kind == "diffusion":
        return DiffusionModel.fit(
            dataset, config, run_dir=run_dir, resume=resume, progress=progress
        )
    model = {"spib": SPIBModel, "latf": LaTFModel}[kind].fit(dataset, config, progress=progress)
    save_run(model, kind, config, dataset, run_dir)
    return model


def fit_summary(model: DiffusionModel | SPIBModel | LaTFModel) -> str:
    """One line on how a fit ended: last losses (diffusion) or the number of states found."""
    if isinstance(model, DiffusionModel):
        last = model.history[-1] if model.history else {}
        return (
            f"step {int(last.get('step', 0))}, train loss "
            f"{last.get('train_loss', float('nan')):.4f}, validation loss "
            f"{last.get('validation_loss', float('nan')):.4f}"
        )
    return f"{model.n_states} metastable states found"
