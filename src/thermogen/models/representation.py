"""Maps between a dataset's features and the model's standardized coordinates.

Non-periodic features are standardized (zero mean, unit variance). A periodic feature (an angle
in radians) becomes the pair (cos, sin), each standardized, so the model never sees the -pi/pi
seam; decoding takes atan2 of the pair, which always returns a wrapped angle. The pair has no
density on the circle, so for internal coordinates of a molecule (whose samples are reweighted
with exact densities) each torsion is instead *cut* at its least populated angle and unrolled
onto the interval [cut, cut + 2 pi), then standardized: one model coordinate per torsion, a
bijection away from the cut, with the plain log-Jacobian of a standardization.
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
    cut
        (D,) the angle (radians) where each unrolled angle is cut, NaN for the other features;
        None when angles go through (cos, sin).
    """

    periodic: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    low: np.ndarray
    high: np.ndarray
    cut: np.ndarray | None = None

    @classmethod
    def fit(
        cls, features: np.ndarray, periodic: np.ndarray, margin: float = 0.5, unroll: bool = False
    ) -> FeatureScaler:
        """Statistics from training features (N, D).

        ``low`` and ``high`` (D',) bound the model coordinates: the training range widened by
        ``margin`` times its width on each side (an unrolled angle: exactly its interval).
        Samplers keep their predictions of clean data inside these bounds, so a deterministic
        sampler cannot carry a trajectory far outside anything the network was trained on.
        With ``unroll``, angles are cut at their least populated angle (see the module).
        """
        periodic = np.asarray(periodic, dtype=bool)
        cut = _least_populated(features, periodic) if unroll else None
        embedded = _embed(features, periodic, cut)
        std = embedded.std(axis=0)
        std = np.where(std > 1e-12, std, 1.0)
        mean = embedded.mean(axis=0)
        z = (embedded - mean) / std
        width = z.max(axis=0) - z.min(axis=0)
        low, high = z.min(axis=0) - margin * width, z.max(axis=0) + margin * width
        if cut is not None:
            low = np.where(periodic, (cut - mean) / std, low)
            high = np.where(periodic, (cut + 2 * np.pi - mean) / std, high)
        return cls(periodic, mean, std, low, high, cut)

    @property
    def unrolled(self) -> bool:
        """True when angles are unrolled at a cut (one coordinate each) rather than (cos, sin)."""
        return self.cut is not None

    @property
    def model_dim(self) -> int:
        """D', the number of model coordinates."""
        return self.mean.size

    @property
    def log_jacobian(self) -> float:
        """log |dz/dx| of the standardization, valid when no angle goes through (cos, sin)."""
        if self.periodic.any() and not self.unrolled:
            raise ValueError(
                "densities of angle features are not available through the (cos, sin) map"
            )
        return float(-np.log(self.std).sum())

    def encode(self, features: np.ndarray) -> np.ndarray:
        """Model coordinates (N, D') of features (N, D)."""
        return (_embed(features, self.periodic, self.cut) - self.mean) / self.std

    def decode(self, z: np.ndarray) -> np.ndarray:
        """Features (N, D) of model coordinates (N, D'); angles wrapped to [-pi, pi]."""
        raw = np.asarray(z) * self.std + self.mean
        if self.unrolled:
            return np.where(self.periodic, np.mod(raw + np.pi, 2 * np.pi) - np.pi, raw)
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
        record = {
            name: getattr(self, name).tolist()
            for name in ("periodic", "mean", "std", "low", "high")
        }
        if self.cut is not None:
            record["cut"] = [None if np.isnan(c) else float(c) for c in self.cut]
        return record

    @classmethod
    def from_dict(cls, data: dict[str, list]) -> FeatureScaler:
        arrays = (np.asarray(data[name], dtype=float) for name in ("mean", "std", "low", "high"))
        cut = data.get("cut")
        cut = None if cut is None else np.array([np.nan if c is None else c for c in cut], float)
        return cls(np.asarray(data["periodic"], dtype=bool), *arrays, cut)


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


def _embed(features: np.ndarray, periodic: np.ndarray, cut: np.ndarray | None) -> np.ndarray:
    """(N, D') model columns before standardization: (cos, sin) per angle, or with ``cut`` the
    angle unrolled onto [cut, cut + 2 pi)."""
    if cut is not None:
        unrolled = cut + np.mod(features - np.nan_to_num(cut), 2 * np.pi)
        return np.where(periodic, unrolled, features)
    columns = []
    for j, is_angle in enumerate(periodic):
        if is_angle:
            columns += [np.cos(features[:, j]), np.sin(features[:, j])]
        else:
            columns.append(features[:, j])
    return np.stack(columns, axis=1)


def _least_populated(features: np.ndarray, periodic: np.ndarray, bins: int = 72) -> np.ndarray:
    """(D,) for each angle, the middle of the longest run of its least populated bins (``bins``
    equal bins, counts smoothed over 45 degrees around the circle); NaN for other features."""
    edges = np.linspace(-np.pi, np.pi, bins + 1)
    centres = 0.5 * (edges[1:] + edges[:-1])
    window = np.ones(bins // 8 + 1)
    cut = np.full(periodic.size, np.nan)
    for j in np.flatnonzero(periodic):
        counts, _ = np.histogram(features[:, j], edges)
        wrapped = np.concatenate(
            [counts[-(window.size // 2) :], counts, counts[: window.size // 2]]
        )
        smooth = np.convolve(wrapped, window, mode="valid")
        cut[j] = centres[_middle_of_longest_run(smooth == smooth.min())]
    return cut


def _middle_of_longest_run(flags: np.ndarray) -> int:
    """Index of the middle of the longest circular run of True in ``flags`` (at least one)."""
    start = int(np.argmin(flags)) if not flags.all() else 0  # a False, so runs do not wrap
    rolled = np.roll(flags, -start)
    best, best_length, run_start = 0, 0, None
    for i, flag in enumerate([*rolled, False]):
        if flag and run_start is None:
            run_start = i
        elif not flag and run_start is not None:
            if i - run_start > best_length:
                best, best_length = run_start + (i - run_start - 1) // 2, i - run_start
            run_start = None
    return (best + start) % flags.size


def fit_scaler(data: MultiTempDataset, rows: np.ndarray) -> FeatureScaler:
    """:meth:`FeatureScaler.fit` on ``data``'s frames ``rows`` (an index or mask), refusing a
    feature whose values are too large to standardize (their spread overflows a float64).

    Raises
    ------
    InputError
        Naming the data's file and the feature.
    """
    unroll = data.internal_coordinates is not None  # their samples are reweighted: a density
    with np.errstate(over="ignore", invalid="ignore"):
        scaler = FeatureScaler.fit(data.features[rows], data.periodic, unroll=unroll)
    finite = np.isfinite(scaler.mean) & np.isfinite(scaler.std)
    if not finite.all():
        owner = np.repeat(np.arange(data.n_features), np.where(data.periodic & ~unroll, 2, 1))
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
