"""Shared inputs of the reliability tests: small datasets in every format and a trained run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from thermogen.data import MultiTempDataset, save_dataset

from ..cli_helpers import run

TINY_SETTINGS = {
    "width": 8,
    "blocks": 1,
    "time_features": 4,
    "train": {"steps": 10, "batch_size": 32},
}
"""A diffusion run trained in about a second."""


@dataclass(frozen=True)
class World:
    """The shared inputs: a folder holding ``data.npz`` (2D harmonic frames, reduced units, with
    replica ids and times), ``data.csv`` (the same frames), ``tiny.yaml`` and ``run/`` (a
    diffusion run trained on ``data.npz`` with ``tiny.yaml``)."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data.npz"

    @property
    def csv(self) -> Path:
        return self.root / "data.csv"

    @property
    def settings(self) -> Path:
        return self.root / "tiny.yaml"

    @property
    def run(self) -> Path:
        return self.root / "run"


def harmonic_frames(n_per_temperature: int = 200, seed: int = 0, **overrides) -> MultiTempDataset:
    """Exact frames of a 2D harmonic well at T = 1 and 2 (reduced units), two replicas."""
    rng = np.random.default_rng(seed)
    temps = np.repeat([1.0, 2.0], n_per_temperature)
    fields = {
        "features": rng.normal(0.0, np.sqrt(temps)[:, None], size=(temps.size, 2)),
        "temperature": temps,
        "replica": np.repeat([0, 1], n_per_temperature),
        "time": np.tile(np.arange(n_per_temperature), 2),
        "temperature_unit": "reduced",
        "energy_unit": "reduced",
        **overrides,
    }
    return MultiTempDataset(**fields)


def write_csv(dataset: MultiTempDataset, path: Path) -> Path:
    """``dataset`` as the CSV that :func:`thermogen.data.load_dataset` reads (header row first)."""
    columns = [dataset.temperature, dataset.replica, dataset.time, *dataset.features.T]
    header = ",".join(["temperature", "replica", "time", *dataset.feature_names])
    np.savetxt(path, np.column_stack(columns), delimiter=",", header=header, comments="")
    return path


def build_world(root: Path) -> World:
    """The shared inputs, built in ``root`` (a tiny diffusion run trains in about a second)."""
    shared = World(root)
    dataset = harmonic_frames()
    save_dataset(dataset, shared.data)
    write_csv(dataset, shared.csv)
    shared.settings.write_text(yaml.safe_dump(TINY_SETTINGS))
    argv = ["train", shared.data, "--out", shared.run, "--config", shared.settings, "--quiet"]
    status, _, err = run(argv)
    assert status == 0, err
    return shared
