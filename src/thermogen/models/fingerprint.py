"""Content fingerprints of a dataset, part by part, so that a resumed run can say what differs."""

from __future__ import annotations

import hashlib
import json

import numpy as np

from ..data.dataset import MultiTempDataset

__all__ = ["data_fingerprint", "data_fingerprints", "differing_parts"]


def data_fingerprints(data: MultiTempDataset) -> dict[str, str]:
    """SHA-256 of each part of a dataset's content (not of where it was read from).

    Returns
    -------
    dict
        ``features``, ``temperature``, ``energy``, ``trajectories`` (replica ids and frame
        indices), ``feature_names`` (with periodicity) and ``units``, each a hex digest.
    """
    parts = {
        "features": (data.features,),
        "temperature": (data.temperature,),
        "energy": (data.energy,),
        "trajectories": (data.replica, data.time),
    }
    digests = {name: _digest_arrays(arrays) for name, arrays in parts.items()}
    names = [list(data.feature_names), np.asarray(data.periodic).tolist()]
    digests["feature_names"] = _digest_json(names)
    digests["units"] = _digest_json([data.temperature_unit, data.energy_unit])
    return digests


def data_fingerprint(data: MultiTempDataset) -> str:
    """One SHA-256 of the whole content: the digest of :func:`data_fingerprints`."""
    return _digest_json(sorted(data_fingerprints(data).items()))


def differing_parts(recorded: dict[str, str], now: dict[str, str]) -> list[str]:
    """The parts whose fingerprints differ, in the order of :func:`data_fingerprints`."""
    return [name for name in now if recorded.get(name) != now[name]]


def _digest_arrays(arrays: tuple[np.ndarray | None, ...]) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        if array is None:
            digest.update(b"-")
        else:
            digest.update(str((array.dtype.str, array.shape)).encode())
            digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _digest_json(value: object) -> str:
    return hashlib.sha256(json.dumps(value).encode()).hexdigest()
