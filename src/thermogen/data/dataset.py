"""The in-memory type for frames seen at temperatures.

A :class:`MultiTempDataset` holds N frames of D features, the temperature each frame was
sampled at and, optionally, its potential energy and the continuous trajectory it belongs to.
It validates itself on construction, so every other module may trust its contents. Its frames
grouped by trajectory are a :class:`Trajectories` (:mod:`thermogen.data.trajectory_index`,
importable from here as well).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import InputError
from ..structures.zmatrix import InternalCoordinates
from ..units import ENERGY_UNITS, KCAL_TO_KJ, TEMPERATURE_UNITS, thermal_energy
from .trajectory_index import Trajectories

__all__ = ["MultiTempDataset", "Trajectories"]

_PERIODIC_TOLERANCE = 1e-6  # radians; values a float rounding step outside [-pi, pi] are wrapped


@dataclass(frozen=True, eq=False)
class MultiTempDataset:
    """Frames of D features, each seen at a known temperature.

    Parameters
    ----------
    features
        (N, D) float array. Periodic features are angles in radians in [-pi, pi].
    temperature
        (N,) positive temperatures, Kelvin or reduced units (see ``temperature_unit``).
    energy
        (N,) potential energies in ``energy_unit`` (kcal/mol is converted to kJ/mol), or None.
    replica
        (N,) int id of the continuous trajectory each frame belongs to, or None.
    time
        (N,) int frame index inside its trajectory, or None. Needs ``replica``.
    feature_names
        D names; defaults to ``x0, x1, ...``.
    periodic
        (D,) bool, True for angle features; defaults to all False.
    temperature_unit
        ``"K"`` (default) or ``"reduced"`` (k_B = 1).
    energy_unit
        ``"kJ/mol"`` (default), ``"kcal/mol"`` (converted on construction) or ``"reduced"``.
    internal_coordinates
        The molecule's Z-matrix when the features are its internal coordinates (then the
        features are exactly its columns, and structures can be rebuilt from them), or None.
    source
        Where the data came from; used in error messages.

    Examples
    --------
    >>> import numpy as np
    >>> ds = MultiTempDataset(np.zeros((4, 2)), np.array([1.0, 1.0, 2.0, 2.0]),
    ...                       temperature_unit="reduced", energy_unit="reduced")
    >>> ds.temperatures.tolist(), ds.n_frames, ds.n_features
    ([1.0, 2.0], 4, 2)
    """

    features: np.ndarray
    temperature: np.ndarray
    energy: np.ndarray | None = None
    replica: np.ndarray | None = None
    time: np.ndarray | None = None
    feature_names: Sequence[str] | None = None
    periodic: np.ndarray | None = None
    temperature_unit: str = "K"
    energy_unit: str = "kJ/mol"
    internal_coordinates: InternalCoordinates | None = None
    source: str = field(default="<memory>", compare=False)

    def __post_init__(self) -> None:
        src = self.source
        features = _checked_features(self.features, src)
        n, d = features.shape
        temperature = _checked_temperature(self.temperature, src, n)
        _check_units(self.temperature_unit, self.energy_unit, src)
        energy, energy_unit = _energy_in_kj(self.energy, self.energy_unit, src, n)
        replica, time = _checked_trajectory_ids(self.replica, self.time, src, n)
        names = _checked_names(self.feature_names, src, d)
        periodic = _checked_periodic(self.periodic, src, d)
        features = _check_angles(features, periodic, names, src)
        _check_internal(self.internal_coordinates, names, periodic, src)

        for name, value in [
            ("features", features),
            ("temperature", temperature),
            ("energy", energy),
            ("replica", replica),
            ("time", time),
            ("periodic", periodic),
        ]:
            if value is not None:
                value.setflags(write=False)
            object.__setattr__(self, name, value)
        object.__setattr__(self, "feature_names", names)
        object.__setattr__(self, "energy_unit", energy_unit)

    # ------------------------------------------------------------------ properties
    @property
    def n_frames(self) -> int:
        """Number of frames N."""
        return self.features.shape[0]

    @property
    def n_features(self) -> int:
        """Number of features D."""
        return self.features.shape[1]

    @property
    def temperatures(self) -> np.ndarray:
        """(K,) the distinct temperatures present, ascending."""
        return np.unique(self.temperature)

    @property
    def has_energy(self) -> bool:
        """True when frames carry potential energies (needed by MBAR and reweighting)."""
        return self.energy is not None

    @property
    def has_trajectories(self) -> bool:
        """True when frames carry ``replica`` and ``time``, so time-lagged pairs can be formed."""
        return self.replica is not None and self.time is not None

    def trajectories(self) -> Trajectories:
        """The frames grouped by ``replica``, each group in ``time`` order (file order without it).

        Returns
        -------
        Trajectories
            M trajectories over the N frames, in ascending replica id.

        Raises
        ------
        InputError
            If the frames carry no ``replica`` ids.
        """
        if self.replica is None:
            raise InputError(
                self.source, "replica", "is missing: the frames carry no trajectory ids"
            )
        return Trajectories.from_arrays(self.replica, self.time)

    def thermal_energy(self, temperature: np.ndarray | float | None = None) -> np.ndarray:
        """k_B T in the dataset's energy unit, for ``temperature`` (default: every frame's)."""
        t = self.temperature if temperature is None else temperature
        return thermal_energy(t, self.temperature_unit)

    # ------------------------------------------------------------------ selection
    def subset(self, index: np.ndarray) -> MultiTempDataset:
        """A new dataset with the frames selected by a boolean mask or integer index array."""
        index = np.asarray(index)

        def pick(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[index]

        return replace(
            self,
            features=self.features[index],
            temperature=self.temperature[index],
            energy=pick(self.energy),
            replica=pick(self.replica),
            time=pick(self.time),
        )

    def require_temperatures(self, minimum: int, purpose: str) -> None:
        """Raise :class:`InputError` unless at least ``minimum`` distinct temperatures are present."""
        k = len(self.temperatures)
        if k < minimum:
            raise InputError(
                self.source,
                "temperature",
                f"{purpose} needs frames at {minimum} or more temperatures, found {k} ({', '.join(f'{t:g}' for t in self.temperatures)})",
            )

    def require_energy(self, purpose: str) -> None:
        """Raise :class:`InputError` if the dataset carries no potential energies."""
        if self.energy is None:
            raise InputError(
                self.source,
                "energy",
                f"{purpose} needs potential energies, but the dataset has none",
            )


def _check_internal(
    internal: InternalCoordinates | None, names: tuple[str, ...], periodic: np.ndarray, src: str
) -> None:
    """Refuse a Z-matrix whose coordinates are not the features' columns, in order, with the
    torsions (and only they) periodic."""
    if internal is None:
        return
    if names != internal.feature_names or not np.array_equal(periodic, internal.periodic):
        raise InputError(
            src,
            "internal_coordinates",
            f"describes {internal.n_features} internal coordinates of {internal.n_atoms} atoms, "
            f"which are not the {len(names)} feature columns",
        )


def _checked_features(value: object, src: str) -> np.ndarray:
    """(N, D) float features with at least one frame and one feature column."""
    features = _float_array(value, src, "features")
    if features.ndim != 2:
        raise InputError(
            src,
            "features",
            f"must be a 2-D array (frames, features), got shape {features.shape}",
        )
    n, d = features.shape
    if n == 0:
        raise InputError(src, "features", "has no frames (the file is empty)")
    if d == 0:
        raise InputError(src, "features", "has no feature columns")
    return features


def _checked_temperature(value: object, src: str, n: int) -> np.ndarray:
    """(N,) positive float temperatures."""
    temperature = _float_array(value, src, "temperature", length=n)
    if np.any(temperature <= 0):
        raise InputError(
            src, "temperature", f"must be positive, found minimum {temperature.min():g}"
        )
    return temperature


def _check_units(temperature_unit: str, energy_unit: str, src: str) -> None:
    """Known units, and reduced temperatures only with reduced energies (and vice versa)."""
    if temperature_unit not in TEMPERATURE_UNITS:
        raise InputError(
            src,
            "temperature_unit",
            f"unknown unit {temperature_unit!r}; use one of {', '.join(TEMPERATURE_UNITS)}",
        )
    if energy_unit not in ENERGY_UNITS:
        raise InputError(
            src,
            "energy_unit",
            f"unknown unit {energy_unit!r}; use one of {', '.join(ENERGY_UNITS)}",
        )
    if (temperature_unit == "reduced") != (energy_unit == "reduced"):
        raise InputError(
            src,
            "energy_unit",
            f"{energy_unit!r} does not go with temperature_unit {temperature_unit!r}: reduced temperatures need reduced energies (k_B = 1)",
        )


def _energy_in_kj(
    value: object | None, energy_unit: str, src: str, n: int
) -> tuple[np.ndarray | None, str]:
    """(N,) float energies (None stays None) and their unit, kcal/mol converted to kJ/mol."""
    energy = None
    if value is not None:
        energy = _float_array(value, src, "energy", length=n)
        if energy_unit == "kcal/mol":
            energy = energy * KCAL_TO_KJ
    return energy, "kJ/mol" if energy_unit == "kcal/mol" else energy_unit


def _checked_trajectory_ids(
    replica: object | None, time: object | None, src: str, n: int
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(N,) int64 replica ids and frame indices (each None when not given).

    ``time`` needs ``replica``, is non-negative and never repeats inside one trajectory.
    """
    replica = None if replica is None else _int_array(replica, src, "replica", n)
    time = None if time is None else _int_array(time, src, "time", n)
    if time is not None and replica is None:
        raise InputError(
            src,
            "time",
            "is given without 'replica': frame indices need the trajectory they belong to",
        )
    if replica is not None and np.any(replica < 0):
        raise InputError(
            src, "replica", f"trajectory ids must be non-negative, found {replica.min()}"
        )
    if time is not None and np.any(time < 0):
        raise InputError(src, "time", "frame indices must be non-negative")
    if time is not None:
        _check_unique_times(replica, time, src)
    return replica, time


def _checked_names(feature_names: Sequence[str] | None, src: str, d: int) -> tuple[str, ...]:
    """D distinct feature names; ``x0, x1, ...`` when None."""
    names = (
        [f"x{i}" for i in range(d)]
        if feature_names is None
        else [_text(s) for s in np.asarray(feature_names).ravel()]
    )
    if len(names) != d:
        raise InputError(src, "feature_names", f"has {len(names)} names for {d} feature columns")
    if len(set(names)) != d:
        raise InputError(src, "feature_names", "contains duplicate names")
    return tuple(names)


def _checked_periodic(periodic: np.ndarray | None, src: str, d: int) -> np.ndarray:
    """(D,) bool periodicity flags; all False when None."""
    flags = np.zeros(d, dtype=bool) if periodic is None else np.asarray(periodic)
    if flags.shape != (d,) or flags.dtype.kind not in "biu":
        raise InputError(
            src,
            "periodic",
            f"must be {d} booleans, one per feature, got shape {flags.shape} and dtype {flags.dtype}",
        )
    return flags.astype(bool)


def _float_array(value: object, src: str, name: str, length: int | None = None) -> np.ndarray:
    if np.iscomplexobj(value):
        raise InputError(src, name, "must contain real numbers, got complex values")
    try:
        a = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(src, name, "must contain numbers") from None
    if length is not None:
        if a.ndim != 1:
            raise InputError(
                src, name, f"must be a 1-D array with one value per frame, got shape {a.shape}"
            )
        if a.shape[0] != length:
            raise InputError(src, name, f"has {a.shape[0]} values but there are {length} frames")
    bad = ~np.isfinite(a)
    if bad.any():
        first = np.argwhere(bad)[0]
        raise InputError(
            src,
            name,
            f"contains {int(bad.sum())} NaN or infinite values (first at index {tuple(int(i) for i in first)})",
        )
    return a


def _int_array(value: object, src: str, name: str, length: int) -> np.ndarray:
    a = np.asarray(value)
    if a.ndim != 1 or a.shape[0] != length:
        raise InputError(
            src, name, f"must have one value per frame ({length}), got shape {a.shape}"
        )
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
            raise InputError(src, name, "must contain whole numbers")
    elif a.dtype.kind not in "iu":
        raise InputError(src, name, f"must contain integers, got dtype {a.dtype}")
    return a.astype(np.int64)


def _text(value: object) -> str:
    """A feature name as text (names stored as bytes are decoded as UTF-8)."""
    return value.decode() if isinstance(value, bytes) else str(value)


def _check_unique_times(replica: np.ndarray, time: np.ndarray, src: str) -> None:
    traj = Trajectories.from_arrays(replica, time)
    same = (np.diff(replica[traj.order]) == 0) & (np.diff(time[traj.order]) == 0)
    if same.any():
        raise InputError(src, "time", "repeats a frame index inside one replica trajectory")


def _check_angles(
    features: np.ndarray, periodic: np.ndarray, names: Sequence[str], src: str
) -> np.ndarray:
    if not periodic.any():
        return features
    angles = features[:, periodic]
    limit = np.pi + _PERIODIC_TOLERANCE
    if np.any(np.abs(angles) > limit):
        j = int(np.flatnonzero(periodic)[np.argmax(np.abs(angles).max(axis=0))])
        largest = float(np.abs(features[:, j]).max())
        hint = " (degrees? convert with numpy.deg2rad)" if largest <= 360.0 + 1e-6 else ""
        raise InputError(
            src,
            names[j],
            f"is periodic but has values up to {largest:.4g}, outside [-pi, pi] radians{hint}",
        )
    features = features.copy()
    features[:, periodic] = np.clip(angles, -np.pi, np.pi)
    return features
