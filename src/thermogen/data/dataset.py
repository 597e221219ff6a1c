"""The in-memory type for frames seen at temperatures.

A :class:`MultiTempDataset` holds N frames of D features, the temperature each frame was
sampled at and, optionally, its potential energy and the continuous trajectory it belongs to.
It validates itself on construction, so every other module may trust its contents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import InputError
from ..units import ENERGY_UNITS, KCAL_TO_KJ, TEMPERATURE_UNITS, thermal_energy

__all__ = ["MultiTempDataset", "Trajectories"]

_PERIODIC_TOLERANCE = 1e-6  # radians; values a float rounding step outside [-pi, pi] are wrapped


@dataclass(frozen=True, eq=False)
class Trajectories:
    """N frames grouped into M trajectories (one per replica id), each in time order.

    Build it with :meth:`MultiTempDataset.trajectories` (or :meth:`from_arrays`). A trajectory
    may have gaps in time; its frames are only sorted, not checked for continuity.

    Attributes
    ----------
    order
        (N,) int64 frame indices sorted by replica id, then by time: the frames of trajectory
        m are ``order[starts[m] : starts[m] + lengths[m]]``.
    starts
        (M,) int64 position in ``order`` of the first frame of each trajectory.
    replica_ids
        (M,) int64 replica id of each trajectory, ascending.

    Examples
    --------
    >>> import numpy as np
    >>> traj = Trajectories.from_arrays(np.array([7, 3, 7, 3]), np.array([1, 5, 0, 4]))
    >>> traj.replica_ids.tolist(), traj.lengths.tolist()
    ([3, 7], [2, 2])
    >>> [s.tolist() for s in traj.segments]
    [[3, 1], [2, 0]]
    """

    order: np.ndarray
    starts: np.ndarray
    replica_ids: np.ndarray

    @classmethod
    def from_arrays(cls, replica: np.ndarray, time: np.ndarray | None = None) -> Trajectories:
        """Group frames into trajectories by replica id and sort each by time.

        Parameters
        ----------
        replica
            (N,) int trajectory id of each frame.
        time
            (N,) int frame index inside its trajectory, or None to keep the frames of one
            replica in array order.
        """
        replica = np.asarray(replica, dtype=np.int64)
        position = np.arange(replica.size) if time is None else np.asarray(time)
        order = np.lexsort((position, replica))
        sorted_ids = replica[order]
        starts = np.flatnonzero(np.r_[sorted_ids.size > 0, sorted_ids[1:] != sorted_ids[:-1]])
        arrays = (order, starts, sorted_ids[starts])
        for a in arrays:
            a.setflags(write=False)
        return cls(*arrays)

    @property
    def lengths(self) -> np.ndarray:
        """(M,) int64 number of frames of each trajectory."""
        return np.diff(np.r_[self.starts, self.order.size])

    @property
    def segments(self) -> list[np.ndarray]:
        """M arrays of frame indices, one per trajectory in time order (views of ``order``)."""
        return [self.order[s : s + n] for s, n in zip(self.starts, self.lengths, strict=True)]


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
    source: str = field(default="<memory>", compare=False)

    def __post_init__(self) -> None:
        src = self.source
        features = _float_array(self.features, src, "features")
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
        temperature = _float_array(self.temperature, src, "temperature", length=n)
        if np.any(temperature <= 0):
            raise InputError(
                src, "temperature", f"must be positive, found minimum {temperature.min():g}"
            )

        if self.temperature_unit not in TEMPERATURE_UNITS:
            raise InputError(
                src,
                "temperature_unit",
                f"unknown unit {self.temperature_unit!r}; use one of {', '.join(TEMPERATURE_UNITS)}",
            )
        if self.energy_unit not in ENERGY_UNITS:
            raise InputError(
                src,
                "energy_unit",
                f"unknown unit {self.energy_unit!r}; use one of {', '.join(ENERGY_UNITS)}",
            )
        if (self.temperature_unit == "reduced") != (self.energy_unit == "reduced"):
            raise InputError(
                src,
                "energy_unit",
                f"{self.energy_unit!r} does not go with temperature_unit {self.temperature_unit!r}: reduced temperatures need reduced energies (k_B = 1)",
            )

        energy = None
        energy_unit = self.energy_unit
        if self.energy is not None:
            energy = _float_array(self.energy, src, "energy", length=n)
            if energy_unit == "kcal/mol":
                energy = energy * KCAL_TO_KJ
        if energy_unit == "kcal/mol":
            energy_unit = "kJ/mol"

        replica = None if self.replica is None else _int_array(self.replica, src, "replica", n)
        time = None if self.time is None else _int_array(self.time, src, "time", n)
        if time is not None and replica is None:
            raise InputError(
                src,
                "time",
                "is given without 'replica': frame indices need the trajectory they belong to",
            )
        if time is not None and np.any(time < 0):
            raise InputError(src, "time", "frame indices must be non-negative")
        if time is not None:
            _check_unique_times(replica, time, src)

        names = (
            [f"x{i}" for i in range(d)]
            if self.feature_names is None
            else [_text(s) for s in np.asarray(self.feature_names).ravel()]
        )
        if len(names) != d:
            raise InputError(
                src, "feature_names", f"has {len(names)} names for {d} feature columns"
            )
        if len(set(names)) != d:
            raise InputError(src, "feature_names", "contains duplicate names")

        periodic = np.zeros(d, dtype=bool) if self.periodic is None else np.asarray(self.periodic)
        if periodic.shape != (d,) or periodic.dtype.kind not in "biu":
            raise InputError(
                src,
                "periodic",
                f"must be {d} booleans, one per feature, got shape {periodic.shape} and dtype {periodic.dtype}",
            )
        periodic = periodic.astype(bool)
        features = _check_angles(features, periodic, names, src)

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
        object.__setattr__(self, "feature_names", tuple(names))
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
    features: np.ndarray, periodic: np.ndarray, names: list[str], src: str
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
