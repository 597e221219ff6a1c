"""What the report reads: the run record and log, the training data, a reference, temperatures."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..data.dataset import MultiTempDataset
from ..errors import InputError

__all__ = [
    "check_features",
    "check_temperatures",
    "load_reference",
    "read_json",
    "resolve_data",
    "simulation_record",
    "subsample",
]


def read_json(path: Path) -> dict[str, Any]:
    """A JSON record such as ``config.json`` (empty when the file is missing)."""
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise InputError(path, None, f"cannot be read as JSON ({type(err).__name__})") from None


def check_features(dataset: MultiTempDataset, feature_names: Sequence[str]) -> MultiTempDataset:
    """``dataset`` when its features are the model's; a one-line :class:`InputError` otherwise."""
    names = tuple(dataset.feature_names)
    if names != tuple(feature_names):
        raise InputError(
            dataset.source,
            "features",
            f"are ({', '.join(names)}) but the model was trained on ({', '.join(feature_names)})",
        )
    return dataset


def resolve_data(
    data: str | Path | MultiTempDataset | None,
    record: dict[str, Any],
    feature_names: Sequence[str],
) -> MultiTempDataset | None:
    """The training data to compare with (default: the file in the run record), checked."""
    from ..data import load_dataset

    if data is None:
        source = record.get("settings", {}).get("data")
        if not source or not Path(source).is_file():
            return None
        data = source
    dataset = data if isinstance(data, MultiTempDataset) else load_dataset(data)
    return check_features(dataset, feature_names)


def load_reference(
    reference: str | Path | MultiTempDataset | None,
    feature_names: Sequence[str],
    temperature_unit: str,
) -> MultiTempDataset | None:
    """Held-out reference frames (a data file or dataset), checked against the model.

    Raises
    ------
    InputError
        One line naming the reference file and the field: unreadable file, other features, or
        another temperature unit than the model's.
    """
    from ..data import load_dataset

    if reference is None:
        return None
    ref = reference if isinstance(reference, MultiTempDataset) else load_dataset(reference)
    check_features(ref, feature_names)
    if ref.temperature_unit != temperature_unit:
        raise InputError(
            ref.source,
            "temperature_unit",
            f"is {ref.temperature_unit!r} but the model's is {temperature_unit!r}",
        )
    return ref


def check_temperatures(temperatures: Sequence[float] | None) -> np.ndarray:
    """Target temperatures as a sorted array, each finite and positive."""
    temps = np.asarray([] if temperatures is None else list(temperatures), dtype=float)
    if temps.size and not (np.all(np.isfinite(temps)) and np.all(temps > 0)):
        raise InputError("report", "temperatures", f"must be finite and > 0, got {temps.tolist()}")
    return np.unique(temps)


def subsample(
    dataset: MultiTempDataset, per_temperature: int, rng: np.random.Generator
) -> MultiTempDataset:
    """At most ``per_temperature`` random frames of each temperature (all when fewer)."""
    keep = []
    for t in dataset.temperatures:
        idx = np.flatnonzero(dataset.temperature == t)
        if idx.size > per_temperature:
            idx = np.sort(rng.choice(idx, per_temperature, replace=False))
        keep.append(idx)
    index = np.concatenate(keep)
    return dataset if index.size == dataset.n_frames else dataset.subset(index)


def simulation_record(dataset: MultiTempDataset) -> dict[str, Any]:
    """The ``<data>.run.json`` that ``thermogen simulate`` wrote beside the data (empty if none).

    A damaged record is ignored (the report says what is not known) rather than fatal.
    """
    source = Path(dataset.source)
    path = source.with_suffix(".run.json")
    if not source.suffix or not path.is_file():
        return {}
    try:
        return read_json(path)
    except InputError:
        return {}
