"""The openmmtools NetCDF store that :func:`~thermogen.simulate.run_openmm_remd` writes.

A store is two files written by ``openmmtools.multistate.MultiStateReporter``: ``NAME.nc``
(per iteration: each replica's thermodynamic state, reduced potentials, swap statistics, and
the run's metadata) and ``NAME_checkpoint.nc`` (positions and velocities of every replica at
every iteration, nm and nm/ps, single precision). Iteration 0 is the starting structure.
thermogen records its settings as JSON in the metadata entry ``thermogen_settings``. It is read
with the reader of ``thermogen featurize --store``, :class:`~thermogen.data.openmmtools_store.OpenMMToolsStore`.
"""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..data.openmmtools_store import OpenMMToolsStore
from ..errors import InputError
from ..quiet import quiet_loggers

__all__ = [
    "METADATA_KEY",
    "OPENMMTOOLS_LOGGERS",
    "StoreContents",
    "import_openmmtools",
    "read_store",
    "store_paths",
    "stored_settings",
]

METADATA_KEY = "thermogen_settings"
"""Metadata entry of the store that holds thermogen's settings (JSON text)."""
OPENMMTOOLS_LOGGERS = ("openmmtools", "mpiplus", "pymbar")
"""Loggers that warn while openmmtools is imported and while it sets up and runs a sampler
(the multistate API being experimental, pymbar's JAX banner, ...)."""


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
    """openmmtools, imported quietly (pymbar prints a banner, openmmtools logs warnings).

    The loggers :data:`OPENMMTOOLS_LOGGERS` are silenced for the import only; wrap later calls
    into openmmtools in ``quiet_loggers(*OPENMMTOOLS_LOGGERS)`` to silence them as well.
    """
    with (
        quiet_loggers(*OPENMMTOOLS_LOGGERS),
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()),
    ):
        import openmmtools
        import openmmtools.multistate
    return openmmtools


def _open(store: Path) -> OpenMMToolsStore:
    """The store for reading; a damaged one is refused with the way out (``--overwrite``)."""
    try:
        return OpenMMToolsStore(store)
    except InputError as err:
        raise InputError(
            err.source,
            err.field,
            f"{err.problem}; if a killed run left it, start over with --overwrite",
        ) from None


def _settings(contents: OpenMMToolsStore) -> dict[str, Any]:
    try:
        return json.loads(contents.metadata(METADATA_KEY))
    except InputError:
        raise InputError(
            contents.path, "metadata", "was not written by thermogen simulate"
        ) from None


def stored_settings(store: str | Path) -> dict[str, Any]:
    """The settings thermogen wrote into a store's metadata.

    Raises
    ------
    InputError
        If the file is not a complete openmmtools store, or not one thermogen wrote.
    """
    with _open(store_paths(store)[0]) as contents:
        return _settings(contents)


def read_store(store: str | Path) -> StoreContents:
    """Read every complete iteration of a store written by thermogen.

    Parameters
    ----------
    store
        The ``.nc`` file; its checkpoint file must sit beside it.
    """
    with _open(store_paths(store)[0]) as contents:
        if contents.accepted is None or contents.checkpoint_interval != 1:
            raise InputError(contents.path, "accepted", "was not written by thermogen simulate")
        return StoreContents(
            _settings(contents),
            contents.last_iteration,
            contents.states,
            contents.reduced_potentials,
            contents.accepted,
            contents.proposed,
            contents.positions(contents.position_iterations),
        )
