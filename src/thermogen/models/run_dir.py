"""The run folder: the one reader and writer of what training leaves on disk.

Layout of ``RUN_DIR`` (every model, every kind)::

    config.json            run record: resolved settings, seed, versions, data, results
    standardization.json   the features' and temperatures' standardization (before training)
    train_log.csv          every training stage's log rows, with a ``stage`` column
    checkpoints/last.pt    checkpoint of the stage named ``train`` (the diffusion model's only one)
    stages/NAME/           checkpoints/last.pt and train_log.csv of every other stage
                           (SPIB's relabelling rounds, LaTF's joint stage)
    model.pt               the fitted model (written last, atomically)

A stage's checkpoint holds its whole loop state, so a killed multi-stage training resumes by
replaying finished stages from their final checkpoints (no optimizer steps) and continuing the
interrupted one: it ends with the weights an uninterrupted run would have.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import fields
from pathlib import Path
from typing import Any

import torch

from ..data.dataset import MultiTempDataset
from ..errors import InputError, UsageError
from ..fileio import atomic_write
from ..provenance import run_record, write_json
from ..train import (
    LOG_COLUMNS,
    RESUME_FIXED_FIELDS,
    LossFn,
    TrainConfig,
    TrainResult,
    checkpoint_path,
    train,
)
from .fingerprint import data_fingerprint, data_fingerprints, differing_parts
from .representation import FeatureScaler, TemperatureScale, standardization_record

__all__ = ["STAGE_COLUMN", "RunDir", "data_fingerprint", "train_stage"]

STAGE_COLUMN = "stage"
"""Column of ``train_log.csv`` naming the training stage of each row."""
_MAY_CHANGE_ON_RESUME = frozenset(f.name for f in fields(TrainConfig)) - set(RESUME_FIXED_FIELDS)
"""Training-loop settings a resume may change (time budget, device, threads, log and
checkpoint intervals); every other setting must be the run's."""
_ROOT_STAGE = "train"
"""The stage that trains in the run folder itself (``checkpoints/last.pt``)."""


class RunDir:
    """A run folder (see the module docstring for its layout).

    Parameters
    ----------
    path
        The folder; created by :meth:`begin`.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    # ---------------------------------------------------------------- paths
    @property
    def model_file(self) -> Path:
        """``model.pt``."""
        return self.path / "model.pt"

    @property
    def record_file(self) -> Path:
        """``config.json``: the run record."""
        return self.path / "config.json"

    @property
    def standardization_file(self) -> Path:
        """``standardization.json``."""
        return self.path / "standardization.json"

    @property
    def log_file(self) -> Path:
        """``train_log.csv``."""
        return self.path / "train_log.csv"

    def stage_dir(self, stage: str) -> Path:
        """Where stage ``stage`` keeps its checkpoint and log."""
        return self.path if stage == _ROOT_STAGE else self.path / "stages" / stage

    def has_checkpoint(self, stage: str) -> bool:
        """Whether stage ``stage`` left a checkpoint."""
        return checkpoint_path(self.stage_dir(stage)).is_file()

    def checkpointed_stages(self) -> list[str]:
        """Names of the stages with a checkpoint."""
        stages = [_ROOT_STAGE] if self.has_checkpoint(_ROOT_STAGE) else []
        folder = self.path / "stages"
        if folder.is_dir():
            stages += sorted(p.name for p in folder.iterdir() if self.has_checkpoint(p.name))
        return stages

    # ---------------------------------------------------------------- writing
    @classmethod
    def started(
        cls,
        run_dir: str | Path | None,
        model_class: Any,
        config: Any,
        data: MultiTempDataset,
        scaler: FeatureScaler,
        temperature_scale: TemperatureScale | None = None,
        resume: bool = False,
    ) -> RunDir | None:
        """The run folder of a fit, begun (None when the fit writes none)."""
        if run_dir is None:
            return None
        run = cls(run_dir)
        standardization = standardization_record(scaler, data.feature_names, temperature_scale)
        seed = model_class.seed_of(config)
        run.begin(model_class.kind, config, data, seed, standardization, resume)
        return run

    def begin(
        self,
        kind: str,
        config: Any,
        data: MultiTempDataset,
        seed: int,
        standardization: dict[str, Any],
        resume: bool = False,
    ) -> None:
        """Create the folder and write the run record and standardization before training.

        With ``resume`` nothing is written: the data and settings are checked against what the
        run recorded instead.

        Raises
        ------
        UsageError
            ``resume`` with no checkpoint of any stage to resume from.
        InputError
            ``resume`` with other data or other settings than the run's (naming what differs).
        """
        if resume:
            if not self.checkpointed_stages():
                raise UsageError(
                    "resume=True but there is no checkpoint to resume from: "
                    f"{checkpoint_path(self.path)} does not exist"
                )
            self._check_same_run(self._record(kind, config, data, seed, {}))
            return
        self.path.mkdir(parents=True, exist_ok=True)
        write_json(self.record_file, self._record(kind, config, data, seed, {}))
        write_json(self.standardization_file, standardization)

    def _check_same_run(self, now: dict[str, Any]) -> None:
        """Refuse to resume with data or settings other than the recorded ones (a folder with
        no record is left to the checkpoints' own checks)."""
        recorded = self.record()
        if not recorded:
            return
        self._check_same_data(recorded.get("results", {}), now)
        before, after = _flat(recorded.get("settings", {})), _flat(now["settings"])
        differing = [
            key
            for key in sorted(set(before) | set(after))
            if key != "data"
            and key.rsplit(".", 1)[-1] not in _MAY_CHANGE_ON_RESUME
            and before.get(key) != after.get(key)
        ]
        if differing:
            key = differing[0]
            raise InputError(
                self.record_file,
                f"settings.{key}",
                f"is {before.get(key)!r} in the run but {after.get(key)!r} now: resume with the "
                "run's own settings, or train into a new folder",
            )

    def _check_same_data(self, recorded: dict[str, Any], now: dict[str, Any]) -> None:
        """Refuse data whose fingerprint differs from the recorded one, naming what differs."""
        if recorded.get("data_fingerprint") == now["results"]["data_fingerprint"]:
            return
        parts = recorded.get("data_parts")
        what = (
            ", ".join(differing_parts(parts, now["results"]["data_parts"])) if parts else "content"
        )
        raise InputError(
            now["settings"]["data"],
            "data",
            f"are not the data the run in {self.path} was trained on (their {what} "
            "differ): resume with the run's data, or train into a new folder",
        )

    def finish(self, model: Any, config: Any, data: MultiTempDataset, stages: list[str]) -> Path:
        """Write ``model.pt``, the combined training log of ``stages`` and the final record."""
        self.write_log(stages)
        write_json(
            self.record_file,
            self._record(model.kind, config, data, model.seed_of(config), model.record_results()),
        )
        return model.save(self.path)

    def _record(
        self, kind: str, config: Any, data: MultiTempDataset, seed: int, results: dict[str, Any]
    ) -> dict[str, Any]:
        return run_record(
            "train",
            {"model": kind, **config.to_dict(), "data": data.source},
            seed,
            {
                "n_frames": data.n_frames,
                "temperatures": data.temperatures,
                "temperature_unit": data.temperature_unit,
                "feature_names": list(data.feature_names),
                "data_fingerprint": data_fingerprint(data),
                "data_parts": data_fingerprints(data),
                **results,
            },
        )

    def write_log(self, stages: list[str]) -> Path:
        """``train_log.csv``: the log rows of ``stages``, in order, each with its stage name."""
        rows = [
            {**row, STAGE_COLUMN: stage}
            for stage in stages
            for row in _read_rows(self.stage_dir(stage) / "train_log.csv")
            if row.get(STAGE_COLUMN, stage) == stage
        ]
        with atomic_write(self.log_file) as tmp, open(tmp, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=(*LOG_COLUMNS, STAGE_COLUMN))
            writer.writeheader()
            writer.writerows(
                {k: row.get(k, "") for k in (*LOG_COLUMNS, STAGE_COLUMN)} for row in rows
            )
        return self.log_file

    # ---------------------------------------------------------------- reading
    def record(self) -> dict[str, Any]:
        """The run record (empty when the folder has none)."""
        if not self.record_file.is_file():
            return {}
        try:
            return json.loads(self.record_file.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise InputError(
                self.record_file, None, f"cannot be read as JSON ({type(err).__name__})"
            ) from None

    def training_log(self) -> list[dict[str, Any]]:
        """Rows of ``train_log.csv``: numbers as floats, ``stage`` as text (``"train"`` when
        the log has no stage column, as while a diffusion model is still training)."""
        return [{STAGE_COLUMN: _ROOT_STAGE, **row} for row in _read_rows(self.log_file)]

    def kind(self) -> str:
        """The kind of the model in ``model.pt`` (one-line InputError if there is none)."""
        from .persistence import model_kind

        return model_kind(self.path)


def _flat(settings: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested settings as ``{"dotted.key": value}`` (lists compared as JSON text)."""
    flat: dict[str, Any] = {}
    for key, value in settings.items():
        if isinstance(value, dict):
            flat |= _flat(value, f"{prefix}{key}.")
        else:
            flat[f"{prefix}{key}"] = json.dumps(value)
    return flat


def _read_rows(path: Path) -> list[dict[str, Any]]:
    """A training log's rows (empty when the file is missing); numbers as floats."""
    if not path.is_file():
        return []
    try:
        with open(path, newline="") as handle:
            return [
                {key: _cell(key, value) for key, value in row.items()}
                for row in csv.DictReader(handle)
            ]
    except (OSError, ValueError) as err:
        raise InputError(path, None, f"cannot be read as a training log ({err})") from None


def _cell(key: str, value: str | None) -> Any:
    if key == STAGE_COLUMN:
        return value
    return float(value) if value not in ("", None) else math.nan


def train_stage(
    run: RunDir | None,
    stage: str,
    module: torch.nn.Module,
    loss: LossFn,
    rows: tuple[torch.Tensor, torch.Tensor | None],
    config: TrainConfig,
    *,
    resume: bool,
    progress: bool,
) -> TrainResult:
    """One training stage with :func:`thermogen.train.train`, checkpointed in ``run``'s
    folder for ``stage`` (nothing written when ``run`` is None); ``resume`` continues the
    stage from its checkpoint when it has one and trains it from the start otherwise."""
    folder = None if run is None else run.stage_dir(stage)
    again = resume and run is not None and run.has_checkpoint(stage)
    return train(module, loss, rows[0], rows[1], config, folder, resume=again, progress=progress)
