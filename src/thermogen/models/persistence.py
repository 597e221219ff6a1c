"""The model file of a run folder: ``run_dir/model.pt``, shared by every model.

It holds a format version, the thermogen version, the model ``kind``, JSON-ready metadata and the
network's weights, and is read with ``torch.load(weights_only=True)``, so loading cannot run code.
Every problem (missing folder or file, damaged file, other kind or format) is a one-line
:class:`~thermogen.errors.InputError` naming the file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from torch import nn

from .. import __version__
from ..config import dataclass_from_mapping
from ..errors import InputError
from ..fileio import atomic_write
from ..structures.zmatrix import InternalCoordinates
from .protocol import DataSpec
from .representation import FeatureScaler, TemperatureScale

__all__ = [
    "FORMAT_VERSION",
    "data_meta",
    "load_weights",
    "model_kind",
    "read_config",
    "read_data_meta",
    "read_model_file",
    "write_model_file",
]

C = TypeVar("C")
T = TypeVar("T")

FORMAT_VERSION = 2
_INTERNAL = "internal_coordinates"
"""Model-file entry of a Z-matrix (JSON), present when the features are internal coordinates."""
"""Version of the model-file layout; a file of another version is refused (2: every model
stores its :class:`~thermogen.models.protocol.DataSpec`)."""


def write_model_file(run_dir: str | Path, kind: str, meta: dict[str, Any], net: nn.Module) -> Path:
    """Write ``run_dir/model.pt``: format and thermogen versions, ``kind``, ``meta`` and weights."""
    path = Path(run_dir) / "model.pt"
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format_version": FORMAT_VERSION,
        "thermogen_version": __version__,
        "kind": kind,
        **meta,
        "state_dict": net.state_dict(),
    }
    with atomic_write(path) as tmp:
        torch.save(payload, tmp)
    return path


class ModelEntries(dict):
    """The entries of a model file: a missing or unreadable entry (a hand-edited or truncated
    file) is a one-line :class:`InputError` naming the file and the entry."""

    def __init__(self, path: Path, entries: dict[str, Any]) -> None:
        super().__init__(entries)
        self.path = path

    def __missing__(self, key: str) -> Any:
        raise InputError(self.path, key, "is missing: the model file is incomplete; retrain")

    def json(self, key: str) -> Any:
        """The entry ``key``, stored as JSON text, parsed."""
        try:
            return json.loads(self[key])
        except (TypeError, ValueError):
            raise InputError(self.path, key, "is not the JSON text thermogen wrote") from None


def read_model_file(run_dir: str | Path, kind: str) -> ModelEntries:
    """The payload of ``run_dir/model.pt`` (``weights_only``), checked to be a ``kind`` model."""
    payload = _read_payload(run_dir)
    path = Path(run_dir) / "model.pt"
    if payload.get("kind") != kind:
        raise InputError(path, "kind", f"is not a {kind} model")
    if payload.get("format_version") != FORMAT_VERSION:
        raise InputError(
            path,
            "format_version",
            f"is {payload.get('format_version')!r}; thermogen {__version__} reads "
            f"{FORMAT_VERSION}: retrain or use the matching version",
        )
    return payload


def model_kind(run_dir: str | Path) -> str:
    """The ``kind`` of the model in ``run_dir/model.pt`` (``"diffusion"``, ``"spib"``, ...).

    Raises the same one-line :class:`InputError` as :func:`read_model_file` for a missing
    folder or file or a damaged file, and one naming field ``kind`` when it has none.
    """
    kind = _read_payload(run_dir).get("kind")
    if not isinstance(kind, str):
        raise InputError(Path(run_dir) / "model.pt", "kind", "is missing: not a thermogen model")
    return kind


def _read_payload(run_dir: str | Path) -> ModelEntries:
    """The payload of ``run_dir/model.pt`` as a dict, with one-line errors for unreadable files."""
    if not Path(run_dir).is_dir():
        raise InputError(run_dir, None, "is not a run folder (it does not exist)")
    path = Path(run_dir) / "model.pt"
    if not path.is_file():
        raise InputError(path, None, "missing: the run has no trained model (did training finish?)")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for a damaged file
        raise InputError(
            path, None, f"cannot be read as a thermogen model ({type(err).__name__})"
        ) from None
    if not isinstance(payload, dict):
        raise InputError(path, None, "is not a thermogen model (no model entries)")
    return ModelEntries(path, payload)


def read_config(cls: type[C], payload: ModelEntries, run_dir: str | Path) -> C:
    """The settings dataclass ``cls`` stored as JSON under ``payload["config"]``."""
    return dataclass_from_mapping(
        cls, payload.json("config"), Path(run_dir) / "model.pt", "config."
    )


def load_weights(net: nn.Module, payload: dict[str, Any], run_dir: str | Path) -> nn.Module:
    """``net`` with the payload's weights, in eval mode (InputError if they do not fit)."""
    try:
        net.load_state_dict(payload["state_dict"])
    except (RuntimeError, KeyError) as err:
        raise InputError(
            Path(run_dir) / "model.pt",
            "state_dict",
            f"does not match the model's config ({type(err).__name__})",
        ) from None
    return net.eval()


def data_meta(
    spec: DataSpec, scaler: FeatureScaler, temperature_scale: TemperatureScale | None = None
) -> dict[str, Any]:
    """Model-file entries describing the training data: spec, standardization of features and
    (for models that know temperature) of temperatures."""
    meta = {"data_spec": json.dumps(spec.to_dict()), "scaler": json.dumps(scaler.to_dict())}
    if spec.internal_coordinates is not None:
        meta[_INTERNAL] = spec.internal_coordinates.to_json()
    if temperature_scale is not None:
        meta["temperature_scale"] = json.dumps(asdict(temperature_scale))
    return meta


def read_data_meta(
    payload: ModelEntries,
) -> tuple[DataSpec, FeatureScaler, TemperatureScale | None]:
    """The entries written by :func:`data_meta` (the temperature scale is None when absent)."""
    spec = _entry(payload, "data_spec", lambda s: DataSpec(**{k: _listed(v) for k, v in s.items()}))
    scaler = _entry(payload, "scaler", FeatureScaler.from_dict)
    n_features = len(spec.feature_names)
    embedded = n_features + (0 if scaler.unrolled else int(np.count_nonzero(scaler.periodic)))
    if scaler.periodic.shape != (n_features,) or scaler.mean.shape != (embedded,):
        raise InputError(
            payload.path,
            "scaler",
            f"standardizes {scaler.periodic.size} features but the model has "
            f"{n_features}: the model file was edited or damaged; retrain",
        )
    if _INTERNAL in payload:
        internal = InternalCoordinates.from_json(str(payload[_INTERNAL]), str(payload.path))
        spec = replace(spec, internal_coordinates=internal)
    has_scale = "temperature_scale" in payload
    tscale = (
        _entry(payload, "temperature_scale", lambda s: TemperatureScale(**s)) if has_scale else None
    )
    return spec, scaler, tscale


def _entry(payload: ModelEntries, key: str, build: Callable[[Any], T]) -> T:
    """The JSON entry ``key`` built into an object; InputError when it does not fit."""
    try:
        return build(payload.json(key))
    except InputError:
        raise
    except (TypeError, KeyError, ValueError, AttributeError) as err:
        raise InputError(
            payload.path, key, f"does not describe a model ({type(err).__name__})"
        ) from None


def _listed(value: Any) -> Any:
    """JSON lists as the tuples the dataclasses hold."""
    return tuple(value) if isinstance(value, list) else value
