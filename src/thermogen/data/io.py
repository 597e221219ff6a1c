"""Reading and writing :class:`MultiTempDataset` files (.npz and .csv).

npz schema (the public file format)
-----------------------------------
``features``
    (N, D) float, required. Periodic features are angles in radians in [-pi, pi].
``temperature``
    (N,) float > 0, required.
``energy``
    (N,) float, optional potential energies.
``replica``, ``time``
    (N,) int, optional: the continuous trajectory of each frame and its index inside it.
``feature_names``
    (D,) str, optional (default ``x0, x1, ...``).
``periodic``
    (D,) bool, optional (default all False).
``temperature_unit``
    0-d str ``"K"`` (default) or ``"reduced"``.
``energy_unit``
    0-d str ``"kJ/mol"`` (default), ``"kcal/mol"`` (converted to kJ/mol on load) or ``"reduced"``.
``internal_coordinates``
    0-d str, optional: the JSON Z-matrix and topology of a molecule whose internal coordinates
    the features are (:class:`~thermogen.structures.InternalCoordinates`).

Other keys are ignored. CSV files have a header row; the ``temperature`` column is required,
``energy``, ``replica`` and ``time`` are optional and every other column is a feature.

Every problem with a file raises :class:`~thermogen.errors.InputError` naming the file and field.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..fileio import available_memory, byte_size, write_npz
from ..strict_yaml import shown
from ..structures.zmatrix import InternalCoordinates
from .csv_reader import load_csv
from .dataset import MultiTempDataset
from .names import check_name, listed
from .suspicious import warn_if_suspicious

__all__ = ["load_dataset", "save_dataset"]

_ARRAY_KEYS = ("features", "temperature", "energy", "replica", "time", "feature_names", "periodic")
_UNIT_KEYS = ("temperature_unit", "energy_unit")
_REQUIRED = ("features", "temperature")
_INTERNAL = "internal_coordinates"
_NPZ_ERRORS = (
    OSError,
    ValueError,
    EOFError,
    zipfile.BadZipFile,
    zlib.error,
    NotImplementedError,
    OverflowError,
    RuntimeError,
)
"""What numpy and zipfile raise for a damaged archive (NotImplementedError: an unknown zip
version or compression method; OverflowError: a dimension beyond int64; RuntimeError: an entry
marked encrypted)."""


def load_dataset(
    path: str | Path,
    *,
    temperature_unit: str | None = None,
    energy_unit: str | None = None,
    periodic: Sequence[str] | None = None,
) -> MultiTempDataset:
    """Read and validate a dataset from an ``.npz`` or ``.csv`` file.

    Parameters
    ----------
    path
        The file; its extension (``.npz`` or ``.csv``) selects the format.
    temperature_unit, energy_unit
        CSV only (an npz file stores its own): units of the ``temperature`` and ``energy``
        columns, default ``"K"`` and ``"kJ/mol"``. kcal/mol energies are converted to kJ/mol.
    periodic
        CSV only: names of the feature columns that are angles in radians.

    Returns
    -------
    MultiTempDataset
        The frames, with ``source`` set to ``str(path)``.

    Raises
    ------
    InputError
        If the file is missing, empty, unreadable or its contents are invalid.
    """
    path = Path(path)
    _check_readable(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        dataset = load_csv(path, temperature_unit or "K", energy_unit or "kJ/mol", periodic)
        return warn_if_suspicious(dataset)
    if suffix == ".npz":
        _refuse_csv_options(
            path, temperature_unit=temperature_unit, energy_unit=energy_unit, periodic=periodic
        )
        return warn_if_suspicious(_load_npz(path))
    raise InputError(
        path,
        None,
        f"has unsupported extension {suffix or '(none)'!r}; datasets are .npz or .csv files",
    )


def save_dataset(
    dataset: MultiTempDataset, path: str | Path, extra: dict[str, np.ndarray] | None = None
) -> Path:
    """Write ``dataset`` to an ``.npz`` file atomically, in the schema :func:`load_dataset` reads.

    Parameters
    ----------
    dataset
        The frames to write. Energies are stored in the dataset's unit (kJ/mol for data that
        were given in kcal/mol), so a load reproduces every field exactly.
    path
        Target file; ``.npz`` is appended when the name lacks it (as ``numpy.savez`` does).
        An existing file is replaced only once the new one is complete.
    extra
        More arrays to store beside the dataset's (names other than the schema's; a load
        ignores them), e.g. the decoded states of generated samples.

    Returns
    -------
    Path
        The file written.
    """
    arrays = {name: getattr(dataset, name) for name in _ARRAY_KEYS}
    arrays["feature_names"] = np.array(dataset.feature_names, dtype=str)
    arrays.update({name: np.array(getattr(dataset, name)) for name in _UNIT_KEYS})
    if dataset.internal_coordinates is not None:
        arrays[_INTERNAL] = np.array(dataset.internal_coordinates.to_json())
    clash = sorted(set(extra or {}) & set(arrays))
    if clash:
        raise ValueError(f"extra arrays may not replace the dataset's own: {clash}")
    arrays.update(extra or {})
    return write_npz(path, {name: value for name, value in arrays.items() if value is not None})


# ---------------------------------------------------------------------- shared


def _check_readable(path: Path) -> None:
    """Raise InputError unless ``path`` is an existing, readable, non-empty regular file."""
    if not path.exists():
        raise InputError(path, None, "does not exist")
    if not path.is_file():
        raise InputError(path, None, "is not a regular file")
    try:
        path.open("rb").close()
    except OSError as err:
        raise InputError(path, None, f"cannot be read ({err.strerror or err})") from None
    if path.stat().st_size == 0:
        raise InputError(path, None, "is empty (0 bytes)")


# ---------------------------------------------------------------------- npz


def _refuse_csv_options(path: Path, **options: object) -> None:
    """An npz file stores its own units and periodicity; CSV options would be ambiguous."""
    given = [name for name, value in options.items() if value is not None]
    if given:
        raise InputError(path, given[0], "is an option for CSV files; an .npz file stores its own")


def _load_npz(path: Path) -> MultiTempDataset:
    """Read the npz schema described in the module docstring."""
    with path.open("rb") as handle:  # closed here even when numpy fails to open the archive
        try:
            archive = np.load(handle, allow_pickle=False)
        except _NPZ_ERRORS:
            raise InputError(
                path,
                None,
                "is not a valid .npz file (a zip archive of numpy arrays written by numpy.savez)",
            ) from None
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise InputError(
                path,
                None,
                "holds a single .npy array, not an .npz archive of named "
                "arrays; write it with numpy.savez",
            )
        with archive:
            fields = _npz_fields(path, archive)
    return MultiTempDataset(**fields, source=str(path))


def _npz_fields(path: Path, npz: np.lib.npyio.NpzFile) -> dict[str, object]:
    """The dataset fields stored in an open npz archive, as keyword arguments."""
    keys = set(npz.files)
    for name in _REQUIRED:
        if name not in keys:
            found = listed(sorted(keys)) or "none"
            raise InputError(path, name, f"is missing (required; the file has keys: {found})")
    fields: dict[str, object] = {
        name: _npz_array(path, npz, name) for name in _ARRAY_KEYS if name in keys
    }
    if "feature_names" in fields:
        fields["feature_names"] = _feature_names(path, fields["feature_names"])
    for name in _UNIT_KEYS:
        if name in keys:
            fields[name] = _unit(path, name, _npz_array(path, npz, name))
    if _INTERNAL in keys:
        text = _npz_array(path, npz, _INTERNAL)
        if text.dtype.kind != "U" or text.ndim != 0:
            raise InputError(path, _INTERNAL, "must be one string (the JSON Z-matrix record)")
        fields[_INTERNAL] = InternalCoordinates.from_json(str(text), str(path))
    return fields


def _npz_array(path: Path, npz: np.lib.npyio.NpzFile, name: str) -> np.ndarray:
    """One array of the archive; corrupt entries, object (pickled) arrays and arrays larger than
    the entry holds or than memory allows (checked from the header, before reading) are refused."""
    _check_declared_size(path, npz, name)
    try:
        return npz[name]
    except _NPZ_ERRORS:
        raise InputError(
            path,
            name,
            "cannot be read: the entry is corrupt or holds Python "
            "objects (pickled data is not loaded, for safety)",
        ) from None


def _check_declared_size(path: Path, npz: np.lib.npyio.NpzFile, name: str) -> None:
    """Refuse an entry whose header declares more bytes than the entry holds, or than half the
    memory now available, before any of it is read (a hostile header costs nothing)."""
    member = f"{name}.npy"
    try:
        info = npz.zip.getinfo(member)
        with npz.zip.open(member) as handle:
            major, _ = np.lib.format.read_magic(handle)
            read_header = (
                np.lib.format.read_array_header_1_0
                if major == 1
                else np.lib.format.read_array_header_2_0
            )
            shape, _, dtype = read_header(handle)
    except (KeyError, *_NPZ_ERRORS):
        return  # left to the reader, which names the entry as corrupt
    if dtype.hasobject:
        raise InputError(
            path,
            name,
            "cannot be read: it holds Python objects (pickled data), which thermogen never "
            "loads, for safety; store numbers or strings",
        )
    if any(isinstance(n, bool) or n < 0 for n in shape):  # numpy's reader fails on these
        raise InputError(path, name, f"declares an impossible shape {shown(shape)}: it is damaged")
    declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if declared > info.file_size:
        raise InputError(
            path,
            name,
            f"declares an array of {byte_size(declared)} (shape {shown(shape)}) but the entry holds "
            f"{byte_size(info.file_size)}: the file is damaged or not what it claims",
        )
    available = available_memory()
    if available is not None and declared > available // 2:
        raise InputError(
            path,
            name,
            f"holds {byte_size(declared)}, more than half the memory available "
            f"({byte_size(available)})",
        )


def _strings(path: Path, name: str, value: np.ndarray) -> np.ndarray:
    """A str array from stored str or bytes (UTF-8)."""
    if value.dtype.kind not in "US":
        raise InputError(path, name, f"must be strings, got dtype {value.dtype}")
    if value.dtype.kind == "U":
        return value
    try:
        return np.char.decode(value, "utf-8")
    except UnicodeDecodeError:
        raise InputError(path, name, "holds bytes that are not UTF-8 text") from None


def _feature_names(path: Path, value: np.ndarray) -> np.ndarray:
    """The stored feature names as str, each one printable line of a readable length."""
    names = _strings(path, "feature_names", value)
    for position, name in enumerate(names.ravel()):
        check_name(path, "feature_names", str(name), f"name {position}")
    return names


def _unit(path: Path, name: str, value: np.ndarray) -> str:
    """A unit name stored as a 0-d string array."""
    if value.ndim != 0:
        raise InputError(path, name, f"must be a single string, got shape {value.shape}")
    unit = str(_strings(path, name, value)[()])
    check_name(path, name, unit, "the unit")
    return unit
