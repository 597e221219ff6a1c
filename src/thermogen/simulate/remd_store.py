"""The openmmtools NetCDF store that :func:`~thermogen.simulate.run_openmm_remd` writes.

A store is two files written by ``openmmtools.multistate.MultiStateReporter``: ``NAME.nc``
(per iteration: each replica's thermodynamic state, reduced potentials, swap statistics, and
the run's metadata) and ``NAME_checkpoint.nc`` (positions and velocities of every replica at
every iteration, nm and nm/ps, single precision). Iteration 0 is the starting structure.
thermogen records its settings as JSON in the metadata entry ``thermogen_settings``.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError

__all__ = [
    "METADATA_KEY",
    "StoreContents",
    "import_openmmtools",
    "read_store",
    "store_paths",
    "stored_settings",
]

METADATA_KEY = "thermogen_settings"
"""Metadata entry of the store that holds thermogen's settings (JSON text)."""


@dataclass(frozen=True)
class StoreContents:
    """Every complete iteration of a store (I = last iteration, R replicas, K temperatures).

    Attributes
    ----------
    settings
        What thermogen recorded when it created the store (temperatures in K, ...).
    last_iteration
        I, the last complete iteration.
    states
        (I + 1, R) int: the temperature index of each replica.
    reduced_energy
        (I + 1, R, K) reduced potentials u = U / (k_B T_k) of each replica at each temperature.
    accepted, proposed
        (I + 1, K, K) int: swaps accepted and proposed between temperatures, per iteration.
    positions
        (I + 1, R, n_atoms, 3) float32 coordinates in nm.
    """

    settings: dict[str, Any]
    last_iteration: int
    states: np.ndarray
    reduced_energy: np.ndarray
    accepted: np.ndarray
    proposed: np.ndarray
    positions: np.ndarray


def store_paths(store: str | Path) -> tuple[Path, Path]:
    """The store (``.nc`` added when missing) and its checkpoint file ``<stem>_checkpoint.nc``."""
    store = Path(store)
    if store.suffix != ".nc":
        store = store.with_name(store.name + ".nc")
    return store, store.with_name(f"{store.stem}_checkpoint.nc")


def import_openmmtools() -> Any:
    """openmmtools, imported quietly (pymbar prints a banner, openmmtools logs warnings)."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        import openmmtools
        import openmmtools.multistate
    for name in ("openmmtools", "mpiplus", "pymbar"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return openmmtools


@contextlib.contextmanager
def open_store(store: Path) -> Iterator[Any]:
    """An openmmtools ``MultiStateReporter`` open for reading, with one-line errors."""
    import netCDF4

    multistate = import_openmmtools().multistate
    reporter = multistate.MultiStateReporter(str(store), checkpoint_interval=1)
    try:
        for path in store_paths(store):  # openmmtools retries a bad file for 8 s; fail at once
            netCDF4.Dataset(path, "r").close()
        reporter.open(mode="r")
        reporter.read_last_iteration(last_checkpoint=False)
    except Exception:  # netCDF4, HDF5 and openmmtools raise many types on a damaged file
        reporter.close()
        raise InputError(
            store,
            None,
            "is not a complete openmmtools store (killed before its first iteration?); "
            "start over with --overwrite",
        ) from None
    try:
        yield reporter
    finally:
        reporter.close()


def stored_settings(store: str | Path) -> dict[str, Any]:
    """The settings thermogen wrote into a store's metadata.

    Raises
    ------
    InputError
        If the file is not a complete openmmtools store, or not one thermogen wrote.
    """
    store = store_paths(store)[0]
    with open_store(store) as reporter:
        try:
            text = reporter.read_dict(f"metadata/{METADATA_KEY}")
        except (KeyError, ValueError, IndexError):
            raise InputError(store, "metadata", "was not written by thermogen simulate") from None
    return json.loads(text)


def read_store(store: str | Path) -> StoreContents:
    """Read every complete iteration of a store written by thermogen.

    Parameters
    ----------
    store
        The ``.nc`` file; its checkpoint file must sit beside it.
    """
    import netCDF4

    store, checkpoint = store_paths(store)
    settings = stored_settings(store)
    with open_store(store) as reporter:
        last = reporter.read_last_iteration(last_checkpoint=False)
        keep = slice(0, last + 1)
        states = np.asarray(reporter.read_replica_thermodynamic_states(keep), dtype=np.int64)
        energies = np.asarray(reporter.read_energies(keep)[0], dtype=float)
        accepted, proposed = (
            np.asarray(a, dtype=np.int64) for a in reporter.read_mixing_statistics(keep)
        )
    # every iteration is a checkpoint (checkpoint_interval = 1): read the positions at once
    # rather than replica by replica through MultiStateReporter.read_sampler_states
    try:
        with netCDF4.Dataset(checkpoint, "r") as nc:
            positions = np.asarray(nc.variables["positions"][keep], dtype=np.float32)
    except (OSError, KeyError):
        raise InputError(checkpoint, "positions", "cannot be read (missing or damaged)") from None
    return StoreContents(settings, last, states, energies, accepted, proposed, positions)
