"""Maps between a dataset's features and the model's standardized coordinates.

Non-periodic features are standardized (zero mean, unit variance). A periodic feature (an angle
in radians) becomes the pair (cos, sin), each standardized, so the model never sees the -pi/pi
seam; decoding takes atan2 of the pair, which always returns a wrapped angle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..data.dataset import MultiTempDataset
from ..errors import InputError

__all__ = ["FeatureScaler", "TemperatureScale", "fit_scaler", "standardization_record"]


@dataclass(frozen=True)
class FeatureScaler:
    """Standardization of features; angles go through (cos, sin).

    Attributes
    ----------
    periodic
        (D,) which features are angles.
    mean, std
        (D',) statistics of the embedded columns (D' = D + number of angles).
    low, high
        (D',) bounds of the model coordinates (see :meth:`fit`).
    """

    periodic: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    low: np.ndarray
    high: np.ndarray

    @classmethod
    def fit(cls, features: np.ndarray, periodic: np.ndarray, margin: float = 0.5) -> FeatureScaler:
        """Statistics from training features (N, D).

        ``low`` and ``high`` (D',) bound the model coordinates: the training range widened by
        ``margin`` times its width on each side. Samplers keep their predictions of clean data
        inside these bounds, so a deterministic sampler cannot carry a trajectory far outside
        anything the network was trained on.
        """
        periodic = np.asarray(periodic, dtype=bool)
        embedded = _embed(features, periodic)
        std = embedded.std(axis=0)
        std = np.where(std > 1e-12, std, 1.0)
        mean = embedded.mean(axis=0)
        z = (embedded - mean) / std
        width = z.max(axis=0) - z.min(axis=0)
        return cls(
            periodic, mean, std, z.min(axis=0) - margin * width, z.max(axis=0) + margin * width
        )

    @property
    def model_dim(self) -> int:
        """D', the number of model coordinates."""
        return self.mean.size

    @property
    def log_jacobian(self) -> float:
        """log |dz/dx| of the standardization, valid when no feature is periodic."""
        if self.periodic.any():
            raise ValueError(
                "densities of angle features are not available through the (cos, sin) map"
            )
        return float(-np.log(self.std).sum())

    def encode(self, features: np.ndarray) -> np.ndarray:
        """Model coordinates (N, D') of features (N, D)."""
        return (_embed(features, self.periodic) - self.mean) / self.std

    def decode(self, z: np.ndarray) -> np.ndarray:
        """Features (N, D) of model coordinates (N, D'); angles wrapped to [-pi, pi]."""
        raw = np.asarray(z) * self.std + self.mean
        out, col = [], 0
        for is_angle in self.periodic:
            if is_angle:
                out.append(np.arctan2(raw[:, col + 1], raw[:, col]))
                col += 2
            else:
                out.append(raw[:, col])
                col += 1
        return np.stack(out, axis=1)

    def to_dict(self) -> dict[str, list]:
        return {
            name: getattr(self, name).tolist()
            for name in ("periodic", "mean", "std", "low", "high")
        }

    @classmethod
    def from_dict(cls, data: dict[str, list]) -> FeatureScaler:
        arrays = (np.asarray(data[name], dtype=float) for name in ("mean", "std", "low", "high"))
        return cls(np.asarray(data["periodic"], dtype=bool), *arrays)


@dataclass(frozen=True)
class TemperatureScale:
    """Temperatures as the model sees them: log(T / T_ref), T_ref the geometric mean of the ladder.

    Attributes
    ----------
    reference
        T_ref, in the dataset's temperature unit.
    spread
        Half the range of log T over the training temperatures; log(T/T_ref)/spread is ~[-1, 1]
        on the ladder.
    """

    reference: float
    spread: float

    @classmethod
    def fit(cls, temperatures: np.ndarray) -> TemperatureScale:
        """From the distinct training temperatures (K,), K >= 2."""
        log_t = np.log(np.unique(temperatures))
        return cls(float(np.exp(log_t.mean())), float(max(0.5 * np.ptp(log_t), 1e-3)))

    def log_ratio(self, temperature: np.ndarray | float) -> np.ndarray:
        """log(T / T_ref), same shape as ``temperature``."""
        return np.log(np.asarray(temperature, dtype=float) / self.reference)


def _embed(features: np.ndarray, periodic: np.ndarray) -> np.ndarray:
    columns = []
    for j, is_angle in enumerate(periodic):
        if is_angle:
            columns += [np.cos(features[:, j]), np.sin(features[:, j])]
        else:
            columns.append(features[:, j])
    return np.stack(columns, axis=1)


def fit_scaler(data: MultiTempDataset, rows: np.ndarray) -> FeatureScaler:
    """:meth:`FeatureScaler.fit` on ``data``'s frames ``rows`` (an index or mask), refusing a
    feature whose values are too large to standardize (their spread overflows a float64).

    Raises
    ------
    InputError
        Naming the data's file and the feature.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        scaler = FeatureScaler.fit(data.features[rows], data.periodic)
    finite = np.isfinite(scaler.mean) & np.isfinite(scaler.std)
    if not finite.all():
        owner = np.repeat(np.arange(data.n_features), np.where(data.periodic, 2, 1))
        name = data.feature_names[int(owner[np.flatnonzero(~finite)[0]])]
        raise InputError(
            data.source,
            f"features[{name}]",
            "has values too large to standardize (their spread overflows a float64): check "
            "the feature's units, or rescale it",
        )
    return scaler


def standardization_record(
    scaler: FeatureScaler,
    feature_names: Sequence[str],
    temperature_scale: TemperatureScale | None = None,
) -> dict[str, Any]:
    """The JSON-ready standardization of a run (``standardization.json``)."""
    record: dict[str, Any] = {"features": scaler.to_dict(), "feature_names": list(feature_names)}
    if temperature_scale is not None:
        record["temperature"] = asdict(temperature_scale)
    return record
